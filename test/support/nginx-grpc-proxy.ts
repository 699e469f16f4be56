import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { freePort } from "./free-port.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait-for.js";

/** The nginx timeouts that end an idle gRPC stream, all set to this. */
export interface ProxyTimeouts {
  idleSeconds: number;
}

const NGINX = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";

/**
 * Debian's nginx as a gRPC reverse proxy (grpc_pass over h2c) in front of one upstream, in
 * its own tmp prefix, on a port of its own that survives kill() and start().
 */
export class NginxGrpcProxy {
  private readonly dir = mkdtempSync(join(tmpdir(), "meshexec-nginx-"));
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly upstream: string,
    private readonly timeouts: ProxyTimeouts,
  ) {}

  /** Starts nginx on a free port, proxying every gRPC call to `upstream` (HOST:PORT). */
  static async start(upstream: string, timeouts: ProxyTimeouts): Promise<NginxGrpcProxy> {
    const proxy = new NginxGrpcProxy(await freePort(), upstream, timeouts);
    await proxy.start();
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    writeFileSync(join(this.dir, "nginx.conf"), this.config());
    const child = spawn(NGINX, ["-p", this.dir, "-c", join(this.dir, "nginx.conf"), "-e", join(this.dir, "error.log")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.on("error", () => {}); // a missing binary shows up as exitCode below, with errorLog() explaining
    this.child = child;
    await waitFor(`nginx to accept on ${this.address}`, () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`nginx exited: ${this.errorLog()} (is nginx installed? apt-get install nginx-light)`);
      return accepts(this.port);
    });
  }

  /** Kills nginx at once: every connection through it drops, as when a proxy crashes. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await once(child, "exit");
  }

  errorLog(): string {
    const file = join(this.dir, "error.log");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  /**
   * master_process off keeps nginx one process, running as us, so SIGKILL takes the listener
   * with it. client_max_body_size 0 because an agent's whole stream is one request body.
   */
  private config(): string {
    const temp = join(this.dir, "temp");
    mkdirSync(temp, { recursive: true });
    const idle = `${this.timeouts.idleSeconds}s`;
    return `daemon off;
master_process off;
pid ${join(this.dir, "nginx.pid")};
error_log ${join(this.dir, "error.log")} info;
events { worker_connections 512; }
http {
  access_log off;
  ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `${kind}_temp_path ${join(temp, kind)};`).join("\n  ")}
  server {
    listen 127.0.0.1:${this.port} http2;
    client_max_body_size 0;
    client_body_timeout ${idle};
    send_timeout ${idle};
    keepalive_timeout ${idle};
    grpc_read_timeout ${idle};
    grpc_send_timeout ${idle};
    location / {
      grpc_pass grpc://${this.upstream};
    }
  }
}
`;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
