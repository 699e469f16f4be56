import { credentials, status } from "@grpc/grpc-js";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import type { TLSSocket } from "node:tls";
import { GrpcCaller } from "../support/grpc-exec.js";
import { MeshexecProcess } from "../support/meshexec-process.js";
import { createTestCertificates, type TestCertificates } from "../support/test-certificates.js";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";
import { waitFor } from "../support/wait-for.js";

describe("TLS and mTLS on every link", function () {
  this.timeout(60_000);
  const containers = new TestContainers();
  let certs: TestCertificates;
  let box: string;
  const extraProcesses: MeshexecProcess[] = [];

  before(async () => {
    certs = createTestCertificates();
    box = await containers.start();
  });
  after(async () => {
    await Promise.all(extraProcesses.map((p) => p.stop("SIGKILL")));
    await containers.removeAll();
  });

  const serving = () => ["--tls-cert", certs.server.cert, "--tls-key", certs.server.key];
  const trustingAgent = (hostname: string, ...args: string[]) => ({ hostname, args: ["--tls-ca", certs.ca, ...args] });
  const withClientCert = () => ["--tls-cert", certs.client.cert, "--tls-key", certs.client.key];
  const linkLost = (agent: MeshexecProcess) => agent.waitForLog("router link lost; reconnecting");

  describe("a router serving TLS", () => {
    let stack: TestStack;
    before(async () => {
      stack = await TestStack.start([trustingAgent("tls-a")], { routerArgs: serving(), gatewayArgs: ["--router-tls-ca", certs.ca] });
    });
    after(() => stack?.stop());

    it("runs execs from the edge to an agent, both trusting the CA", async () => {
      const reply = await stack.exec("tls-a", box, { command: ["sh", "-c", "echo over tls; exit 4"] });
      expect(reply.status).to.equal(202);
      expect(reply.body.results[0]).to.include({ hostname: "tls-a", status: "ok", stdout: "over tls\n", exit_code: 4 });
    });

    it("refuses a plaintext agent", async () => {
      const plaintext = await stack.spawnAgent({ hostname: "tls-plain" });
      await linkLost(plaintext);
      expect(await stack.connectedAgents()).to.not.include("tls-plain");
    });

    it("checks the router's certificate against --tls-server-name: a wrong name is refused, a right one connects", async () => {
      const wrongName = await stack.spawnAgent(trustingAgent("tls-wrong-name", "--tls-server-name", "router.example"));
      const lost = await linkLost(wrongName);
      expect(String(lost.reason)).to.match(/certificate|altnames|Hostname/i);
      await stack.startAgent(trustingAgent("tls-right-name", "--tls-server-name", "localhost"));
    });
  });

  describe("a router requiring client certificates (mTLS)", () => {
    let stack: TestStack;
    before(async () => {
      stack = await TestStack.start([trustingAgent("mtls-a", ...withClientCert())], {
        routerArgs: [...serving(), "--tls-client-ca", certs.ca],
        gatewayArgs: ["--router-tls-ca", certs.ca, "--router-tls-cert", certs.client.cert, "--router-tls-key", certs.client.key],
      });
    });
    after(() => stack?.stop());

    it("refuses an agent without a client certificate and lets one with it connect", async () => {
      const anonymous = await stack.spawnAgent(trustingAgent("mtls-anonymous"));
      await linkLost(anonymous);
      await stack.startAgent(trustingAgent("mtls-b", ...withClientCert()));
      const connected = await stack.connectedAgents();
      expect(connected).to.include("mtls-b");
      expect(connected).to.not.include("mtls-anonymous");
    });

    it("admits an agent by its certificate alone: the DNS SAN is its hostname, URI SANs its labels; any other hostname or label is refused", async () => {
      const certArgs = (pair: { cert: string; key: string }) => ["--tls-ca", certs.ca, "--tls-cert", pair.cert, "--tls-key", pair.key];
      await stack.startAgent({ hostname: "cert-agent", labels: { role: "cert" }, args: certArgs(certs.agent) }, { token: null });
      const reply = await stack.exec("role:cert", box, { command: ["echo", "by certificate"] });
      expect(reply.body.results).to.have.length(1);
      expect(reply.body.results[0]).to.include({ hostname: "cert-agent", status: "ok", stdout: "by certificate\n" });
      await stack.router.waitForLog("agent connected", (l) => l.hostname === "cert-agent" && l.credential === "certificate");

      await stack.spawnAgent({ hostname: "not-cert-agent", args: certArgs(certs.agent) }, { token: null });
      await stack.router.waitForLog("agent refused", (l) => l.code === "PERMISSION_DENIED" && l.asked === "not-cert-agent" && l.allowed === "cert-agent");
      await stack.spawnAgent(
        { hostname: "cert-agent-2", labels: { role: "web" }, args: certArgs(certs.issueAgent("cert-agent-2", { role: "cert" })) },
        { token: null },
      );
      await stack.router.waitForLog("agent refused", (l) => l.code === "PERMISSION_DENIED" && l.asked === "role=web" && l.allowed === "role=cert");
      await stack.spawnAgent({ hostname: "no-san", args: certArgs(certs.client) }, { token: null });
      await stack.router.waitForLog("agent refused", (l) => String(l.reason).includes("names no hostname (DNS SAN)"));
      expect(await stack.connectedAgents()).to.not.include.members(["not-cert-agent", "cert-agent-2", "no-san"]);
    });

    it("revokes a certificate identity: certificates issued until the revocation are refused, a newer one is admitted", async () => {
      const pair = certs.issueAgent("cert-rev", { role: "cert" });
      const certArgs = (p: { cert: string; key: string }) => ["--tls-ca", certs.ca, "--tls-cert", p.cert, "--tls-key", p.key];
      const agent = await stack.startAgent({ hostname: "cert-rev", args: certArgs(pair) }, { token: null });
      const revoked = await stack.request("POST", "/agents/cert-rev/revoke", { token: await stack.token(["agent:admin"]) });
      expect(revoked.body).to.include({ session_ended: true });
      await stack.router.waitForLog("agent refused", (l) => String(l.reason).includes('"cert-rev" was revoked at'));
      await agent.stop("SIGKILL");
      await waitFor("the second after the revocation", () => Date.now() >= Date.parse(revoked.body.revoked_at) + 1_000);
      await stack.startAgent({ hostname: "cert-rev", args: certArgs(certs.issueAgent("cert-rev")) }, { token: null });
    });

    it("runs execs from an edge presenting its client certificate", async () => {
      const reply = await stack.exec("mtls-a", box, { command: ["echo", "mutual"] });
      expect(reply.status).to.equal(202);
      expect(reply.body.results[0]).to.include({ status: "ok", stdout: "mutual\n" });
    });

    it("serves a gRPC caller with a client certificate and refuses one without", async () => {
      const ca = readFileSync(certs.ca);
      const withCert = new GrpcCaller(
        `localhost:${stack.routerPort}`,
        credentials.createSsl(ca, readFileSync(certs.client.key), readFileSync(certs.client.cert)),
      );
      const withoutCert = new GrpcCaller(`localhost:${stack.routerPort}`, credentials.createSsl(ca));
      try {
        const ok = await withCert.exec({ target: "mtls-a", containerId: box, command: ["echo", "caller"] }, await stack.token());
        expect(ok.response!.results[0]).to.include({ status: "ok", stdout: "caller\n" });
        const refused = await withoutCert.exec({ target: "mtls-a", containerId: box, command: ["echo", "caller"] }, await stack.token());
        expect(refused.code).to.equal(status.UNAVAILABLE);
      } finally {
        withCert.close();
        withoutCert.close();
      }
    });

    it("serves the edge over HTTPS with its certificate", async () => {
      const gateway = MeshexecProcess.spawn(
        "https gateway",
        [
          "gateway",
          "--rest-listen",
          "127.0.0.1:0",
          "--router",
          stack.routerAddress,
          ...serving(),
          "--router-tls-ca",
          certs.ca,
          "--router-tls-cert",
          certs.client.cert,
          "--router-tls-key",
          certs.client.key,
        ],
        { MESHEXEC_JWT_SECRET: stack.secret },
      );
      extraProcesses.push(gateway);
      const port = await gateway.listeningPort("gateway listening");
      const reply = await httpsGet(`https://127.0.0.1:${port}/agents`, readFileSync(certs.ca), await stack.token());
      expect(reply.status).to.equal(200);
      expect(reply.peerCommonName).to.equal("meshexec test server");
      expect(JSON.parse(reply.body).agents.map((a: { hostname: string }) => a.hostname)).to.include("mtls-a");
    });
  });

  it("fails at startup, naming the file and the problem, when a TLS file is unreadable or does not fit", async () => {
    const env = { MESHEXEC_JWT_SECRET: "secret" };
    const router = (...args: string[]) => MeshexecProcess.spawn("router", ["router", "--grpc-listen", "127.0.0.1:0", ...args], env);
    const missing = router("--tls-cert", "/nonexistent/cert.pem", "--tls-key", certs.server.key);
    const mismatched = router("--tls-cert", certs.server.cert, "--tls-key", certs.client.key);
    const halfPair = router("--tls-cert", certs.server.cert);
    extraProcesses.push(missing, mismatched, halfPair);
    expect((await missing.exited).code).to.equal(2);
    expect(missing.stderr).to.include("cannot read the TLS certificate: /nonexistent/cert.pem: ENOENT");
    expect((await mismatched.exited).code).to.equal(2);
    expect(mismatched.stderr).to.match(/unusable TLS files: .*key values mismatch/);
    expect((await halfPair.exited).code).to.equal(2);
    expect(halfPair.stderr).to.include(`only the certificate ${certs.server.cert} was given`);
  });
});

function httpsGet(url: string, ca: Buffer, token: string): Promise<{ status: number; body: string; peerCommonName: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const peerCommonName = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body, peerCommonName }));
    });
    req.on("error", reject);
    req.end();
  });
}
