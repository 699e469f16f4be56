// The tests start nats-server with the bench's launcher: one implementation for both harnesses.
export { NatsServer } from "../../bench/nats-server.js";
