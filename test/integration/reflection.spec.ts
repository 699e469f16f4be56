import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Metadata, credentials, loadPackageDefinition, type ClientDuplexStream, type GrpcObject, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, loadSync } from "@grpc/proto-loader";
import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { TestContainers } from "../support/test-containers.js";
import { TestStack } from "../support/test-stack.js";

const REFLECTION_PROTOS = new URL("../../node_modules/@grpc/reflection/build/proto/", import.meta.url).pathname;
const DESCRIPTOR_SET = new URL("../../dist/meshexec.binpb", import.meta.url).pathname;
const BUF = new URL("../../node_modules/.bin/buf", import.meta.url).pathname;
const PROTO = new URL("../../proto/", import.meta.url).pathname;

/** The files a .proto imports, read from its source. */
const importsOf = (file: string) => [...readFileSync(PROTO + file, "utf8").matchAll(/^import "([^"]+)";/gm)].map((m) => m[1]);

interface ReflectionReply {
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

/** A grpcurl-style reflection client: one request, one reply, over the bidi ServerReflectionInfo. */
function reflectionClient(version: "v1" | "v1alpha", address: string) {
  const definition = loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [REFLECTION_PROTOS] });
  const Service = service(loadPackageDefinition(definition), `grpc.reflection.${version}.ServerReflection`);
  const client = new Service(address, credentials.createInsecure());
  const open = client.ServerReflectionInfo as () => ClientDuplexStream<object, ReflectionReply>;
  return {
    ask(request: object): Promise<ReflectionReply> {
      const call = open.call(client);
      return new Promise((resolve, reject) => {
        call.once("data", (reply: ReflectionReply) => {
          call.end();
          resolve(reply);
        });
        call.once("error", reject);
        call.write(request);
      });
    },
    close: () => client.close(),
  };
}

function service(root: GrpcObject, name: string): ServiceClientConstructor {
  return name.split(".").reduce((node: any, part) => node[part], root) as ServiceClientConstructor;
}

const decodeFiles = (reply: ReflectionReply): FileDescriptorProto[] =>
  reply.fileDescriptorResponse!.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));

describe("gRPC server reflection and the descriptor set", function () {
  this.timeout(30_000);
  const containers = new TestContainers();
  let stack: TestStack;
  let box: string;

  before(async () => {
    [stack, box] = await Promise.all([TestStack.start([{ hostname: "rf-a" }]), containers.start()]);
  });
  after(async () => {
    await stack?.stop();
    await containers.removeAll();
  });

  /** buf curl, a reflection client this project did not write, against the router over h2c. */
  async function bufCurl(args: string[], path = ""): Promise<string> {
    const argv = ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--reflect", ...args, `http://${stack.routerAddress}${path}`];
    return (await promisify(execFile)(BUF, argv)).stdout;
  }

  for (const version of ["v1", "v1alpha"] as const) {
    it(`lists the router's services over reflection ${version}`, async () => {
      const reflection = reflectionClient(version, stack.routerAddress);
      try {
        const reply = await reflection.ask({ listServices: "*" });
        expect(reply.listServicesResponse!.service.map((s) => s.name)).to.include.members([
          "meshexec.v1.ExecService",
          "meshexec.v1.AgentService",
          "meshexec.v1.JobService",
          "meshexec.v1.AuditService",
          "meshexec.v1.TokenService",
          "grpc.health.v1.Health",
        ]);
      } finally {
        reflection.close();
      }
    });
  }

  it("describes ExecService, and a client built from nothing but that description can call it", async () => {
    const reflection = reflectionClient("v1", stack.routerAddress);
    let files: FileDescriptorProto[];
    try {
      files = decodeFiles(await reflection.ask({ fileContainingSymbol: "meshexec.v1.ExecService" }));
    } finally {
      reflection.close();
    }
    const execService = files.flatMap((file) => file.service).find((s) => s.name === "ExecService");
    expect(execService?.method.map((m) => m.name)).to.include.members(["ExecContainer", "ListAgents"]);
    // The real files, under proto/'s names and with its imports, each import sent along.
    expect(files[0].name).to.equal("meshexec/v1/exec.proto");
    expect(files[0].dependency).to.deep.equal(importsOf("meshexec/v1/exec.proto"));
    expect(files.map((file) => file.name)).to.include.members(files.flatMap((file) => file.dependency));

    const described = loadFileDescriptorSetFromBuffer(Buffer.from(toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files }))), {
      arrays: true,
    });
    const ExecService = service(loadPackageDefinition(described), "meshexec.v1.ExecService");
    const client = new ExecService(stack.routerAddress, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${await stack.token(["agent:read"])}`);
    try {
      const reply = await new Promise<{ agents: Array<{ hostname: string }> }>((resolve, reject) =>
        client.ListAgents({}, metadata, (err: Error | null, res: { agents: Array<{ hostname: string }> }) => (err ? reject(err) : resolve(res))),
      );
      expect(reply.agents.map((agent) => agent.hostname)).to.deep.equal(["rf-a"]);
    } finally {
      client.close();
    }
  });

  it("is enough for buf curl to list the methods and call ExecContainer, and to read a result without an exit", async () => {
    expect((await bufCurl(["--list-methods"])).split("\n")).to.include.members([
      "meshexec.v1.ExecService/ExecContainer",
      "meshexec.v1.ExecService/StreamExecContainer",
      "meshexec.v1.JobService/GetJob",
      "meshexec.v1.AuditService/ListAudit",
      "grpc.health.v1.Health/Check",
    ]);
    const token = await stack.token(["docker:execute"]);
    const call = async (request: object) =>
      JSON.parse(await bufCurl(["-H", `authorization: Bearer ${token}`, "-d", JSON.stringify(request)], "/meshexec.v1.ExecService/ExecContainer"));
    const ran = await call({ target: "rf-a", container_id: box, command: ["sh", "-c", "echo hi; exit 4"] });
    expect(ran.results).to.have.length(1);
    expect(ran.results[0]).to.include({ hostname: "rf-a", status: "ok", stdout: "hi\n", exitCode: 4 });
    const notRun = await call({ target: "_all", container_id: "meshexec-reflection-absent", command: ["true"] });
    expect(notRun.results[0]).to.include({ hostname: "rf-a", status: "failed" }).and.not.have.property("exitCode");
  });

  it("builds dist/meshexec.binpb, the descriptor set for Envoy's gRPC-JSON transcoder, with the imports it needs", () => {
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTOR_SET));
    expect(set.file.map((f) => f.name)).to.include.members([
      "meshexec/v1/exec.proto",
      "meshexec/v1/agent.proto",
      "meshexec/v1/jobs.proto",
      "meshexec/v1/audit.proto",
      "google/api/annotations.proto",
      "google/api/http.proto",
      "google/protobuf/timestamp.proto",
      "health/v1/health.proto",
      "grpc/reflection/v1/reflection.proto",
    ]);
    const exec = set.file.find((f) => f.name === "meshexec/v1/exec.proto")!;
    const execContainer = exec.service.find((s) => s.name === "ExecService")!.method.find((m) => m.name === "ExecContainer");
    // google.api.http (field 72295728) stays in the method's options as an extension the transcoder reads.
    expect(execContainer?.options?.$unknown?.some((field) => field.no === 72295728)).to.equal(true);
  });
});
