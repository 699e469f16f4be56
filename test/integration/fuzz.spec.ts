import { connect } from "node:net";
import { expect } from "chai";
import { execLimits } from "../../src/contract/index.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack, type HttpReply } from "../support/test-stack.js";

const SEED = 0x6d657368;
const HTTP_REQUESTS = 1_200;
const CONCURRENCY = 16;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed exactly. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const chance = (p: number) => next() < p;
  const string = (maxLength: number, alphabet?: string) =>
    Array.from({ length: int(maxLength + 1) }, () =>
      alphabet ? alphabet[int(alphabet.length)] : String.fromCodePoint(pick([int(128), int(0x800), 0x4e00 + int(100), 0x1f600 + int(50)])),
    ).join("");
  return { int, pick, chance, string };
}
type Random = ReturnType<typeof prng>;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:/%@ ";

function randomJson(r: Random, depth = 0): unknown {
  switch (r.int(depth > 2 ? 4 : 6)) {
    case 0:
      return r.string(12);
    case 1:
      return r.pick([0, -1, 1.5, 3600, 3601, 2 ** 32, 1e308, Number.MAX_SAFE_INTEGER]);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return r.string(4, "ab");
    case 4:
      return Array.from({ length: r.int(4) }, () => randomJson(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(4) }, () => [r.pick(["command", "env", "working_dir", "timeout_seconds", r.string(8)]), randomJson(r, depth + 1)]),
      );
  }
}

/** A body that is often almost right, so that the fuzz reaches the router's validation and Docker too. */
function randomBody(r: Random): string | undefined {
  const nearlyValid = () => {
    const body: Record<string, unknown> = { command: r.pick([["true"], ["echo", r.string(20)], [r.string(10)], [], [""], ["sh", "-c", "exit 3"]]) };
    if (r.chance(0.4)) body.env = r.pick([["A=1"], [r.string(10)], [`${r.string(5, NAME_CHARS)}=${r.string(5)}`], "A=1", [1]]);
    if (r.chance(0.3)) body.working_dir = r.pick(["/", "/tmp", "tmp", "", r.string(10)]);
    if (r.chance(0.3)) body.timeout_seconds = r.pick([1, 5, 0, -3, 1.5, "5", 3601]);
    if (r.chance(0.1)) body[r.string(6)] = randomJson(r);
    return JSON.stringify(body);
  };
  switch (r.int(10)) {
    case 0:
      return undefined;
    case 1:
      return JSON.stringify(randomJson(r));
    case 2: {
      const text = nearlyValid();
      return text.slice(0, r.int(text.length));
    }
    case 3:
      return r.string(60);
    case 4:
      return Array.from({ length: r.int(40) }, () => String.fromCharCode(r.int(256))).join("");
    case 5:
      return r.chance(0.5)
        ? `{"command":["true"]}${" ".repeat(execLimits.maxBodyBytes + r.int(100_000))}`
        : JSON.stringify({ command: ["true", "x".repeat(64 * 1024 + r.int(3))] });
    default:
      return nearlyValid();
  }
}

function randomSegment(r: Random, good: readonly string[]): string {
  switch (r.int(5)) {
    case 0:
      return encodeURIComponent(r.string(20));
    case 1:
      return r.string(12, NAME_CHARS.replace(/[/% ]/g, ""));
    case 2:
      return r.pick(["", "_", "_x", "%", "%zz", "%2F", "..", ".", "a".repeat(300), "%00"]);
    default:
      return r.pick(good);
  }
}

/** Half the requests are well aimed (a good token, the exec route, JSON) so that the fuzz reaches validation, targets and Docker. */
function randomRequest(r: Random, tokens: readonly string[], box: string): FuzzRequest {
  if (r.chance(0.5)) {
    const target = r.pick(["node-a", "node-b", "_any", "_all", "role:web", r.string(8, NAME_CHARS.replace(/[/% ]/g, ""))]);
    const path = `/node/${encodeURIComponent(target)}/container/docker/${encodeURIComponent(r.pick([box, box, "absent-container"]))}/exec`;
    return { method: "POST", path, headers: { authorization: `Bearer ${tokens[0]}`, "content-type": "application/json" }, body: randomBody(r) };
  }
  const target = randomSegment(r, ["node-a", "node-b", "_any", "_all", "role:web", "role:none", "nowhere"]);
  const id = randomSegment(r, [box, box, "absent-container"]);
  const path = r.pick([
    `/node/${target}/container/docker/${id}/exec`,
    `/node/${target}/container/docker/${id}/exec`,
    `/node/${target}/container/docker/${id}/exec`,
    `/node/${target}/container/${r.string(6, "abcdefgh")}/${id}/exec`,
    `/node/${target}/container/docker/${id}/exec/${randomSegment(r, ["x"])}`,
    "/agents",
    "/health",
    `/${randomSegment(r, ["node", "agents", "health"])}`,
    `/node/${target}`,
    `/${encodeURIComponent(r.string(30))}?${r.string(10, "a=&%")}`,
    `//${r.string(5, "abc/")}`,
  ]);
  const method = r.pick(["POST", "POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "FOO"]);
  const headers: Record<string, string> = {};
  const authorization = r.pick([
    ...tokens.map((t) => `Bearer ${t}`),
    ...tokens.map((t) => `Bearer ${t}`),
    "",
    "Bearer",
    `Bearer ${r.string(30, NAME_CHARS)}`,
    `Basic ${r.string(10, "abc")}`,
    `bearer ${tokens[0]}`,
  ]);
  if (authorization) headers.authorization = authorization;
  const contentType = r.pick([
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/vnd.api+json",
    "",
    r.string(20, "abc/;= "),
  ]);
  if (contentType) headers["content-type"] = contentType;
  if (r.chance(0.1)) headers[`x-${r.string(8, "abcdef")}`] = r.string(30, NAME_CHARS);
  if (r.chance(0.01)) headers["x-oversized"] = "x".repeat(20 * 1024);
  return { method, path, headers, body: method === "GET" ? undefined : randomBody(r) };
}

/** Malformed HTTP that only a raw socket can send: Node's parser refuses it before any route runs. */
const RAW_REQUESTS = [
  "FOO / HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
  "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
  "POST /agents HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
  "POST /agents HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
  "GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n",
  `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(20 * 1024)}\r\n\r\n`,
  "\u0000\u0001\u0002\r\n\r\n",
];

function rawExchange(port: number, request: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const [head, ...rest] = text.split("\r\n\r\n");
      const [statusLine, ...headerLines] = head.split("\r\n");
      const headers = new Headers(headerLines.map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()] as [string, string]));
      let body: unknown = rest.join("\r\n\r\n");
      try {
        body = JSON.parse(body as string);
      } catch {
        // Not JSON: the check will say so.
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(request.slice(0, 40))}`)));
  });
}

/** The contract: a 202 with results, a 200 from the two GET routes, or the error shape with code equal to the status. */
function checkAnswer(request: { method: string; path: string }, reply: HttpReply): string | undefined {
  const body = reply.body;
  if (reply.status === 202) return Array.isArray(body?.results) && typeof body.job_id === "string" ? undefined : "202 without results";
  if (reply.status === 200) {
    const ok =
      request.method === "GET" && ((request.path === "/agents" && Array.isArray(body?.agents)) || (request.path === "/health" && body?.status === "ok"));
    return ok ? undefined : "unexpected 200";
  }
  const wellFormed =
    reply.headers.get("content-type")?.startsWith("application/json") &&
    typeof body === "object" &&
    body !== null &&
    Object.keys(body).sort().join() === "code,details,error" &&
    typeof body.error === "string" &&
    body.error !== "" &&
    typeof body.details === "string" &&
    body.details !== "" &&
    body.code === reply.status;
  return wellFormed ? undefined : "not the error shape";
}

describe("fuzz: random and malformed requests against the real edge and router", function () {
  this.timeout(90_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;

  before(async () => {
    [stack, box] = await Promise.all([
      TestStack.start([
        { hostname: "node-a", labels: { role: "web" } },
        { hostname: "node-b", labels: { role: "db" } },
      ]),
      containers.start(),
    ]);
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  it(`answers ${HTTP_REQUESTS} seeded random requests with a 202 or a well-formed error, and stays up`, async () => {
    const r = prng(SEED);
    const tokens = await Promise.all([stack.token(), stack.token(["agent:read"]), stack.token(["docker:execute"], -60_000)]);
    const requests = Array.from({ length: HTTP_REQUESTS }, () => randomRequest(r, tokens, box));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let nextIndex = 0;
    const worker = async () => {
      for (let i = nextIndex++; i < requests.length; i = nextIndex++) {
        const request = requests[i];
        const where = `#${i} ${request.method} ${request.path.slice(0, 80)} (seed ${SEED})`;
        try {
          const reply = await stack.request(request.method, request.path, { headers: request.headers, body: request.body });
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          const problem = checkAnswer(request, reply);
          if (problem) failures.push(`${where}: ${problem}: ${reply.status} ${JSON.stringify(reply.body)?.slice(0, 200)}`);
        } catch (err) {
          failures.push(`${where}: no answer: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(failures.slice(0, 20)).to.deep.equal([]);
    // The mix must reach every layer, or the fuzz proves little.
    for (const status of [202, 400, 401, 403, 404, 405, 413, 415]) expect(statuses.get(status) ?? 0, `answers with ${status}`).to.be.greaterThan(0);
    expect(stack.router.running && stack.gateway.running).to.equal(true);
  });

  it("answers malformed HTTP from a raw socket in the same shape", async () => {
    for (const raw of RAW_REQUESTS) {
      const reply = await rawExchange(stack.gatewayPort, raw);
      expect(checkAnswer({ method: "", path: "" }, reply), `${JSON.stringify(raw.slice(0, 60))} → ${reply.status} ${JSON.stringify(reply.body)}`).to.equal(
        undefined,
      );
      expect(reply.status).to.be.oneOf([400, 431]);
    }
  });

  it("still serves a good exec and /health afterwards", async () => {
    expect((await stack.request("GET", "/health")).status).to.equal(200);
    const reply = await stack.exec("_all", box, { command: ["echo", "alive"] });
    expect(reply.status).to.equal(202);
    expect(reply.body.results.map((result: { stdout: string }) => result.stdout)).to.deep.equal(["alive\n", "alive\n"]);
    expect(stack.router.running && stack.gateway.running && [...stack.agents.values()].every((a) => a.running)).to.equal(true);
  });
});
