import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Metadata, credentials, loadPackageDefinition, type ClientDuplexStream, type GrpcObject, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, loadSync } from "@grpc/proto-loader";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { TestStack } from "../support/test-stack.js";

const REFLECTION_PROTOS = new URL("../../node_modules/@grpc/reflection/build/proto/", import.meta.url).pathname;
const DESCRIPTOR_SET = new URL("../../dist/meshexec.binpb", import.meta.url).pathname;

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
  let stack: TestStack;

  before(async () => {
    stack = await TestStack.start([]);
  });
  after(() => stack?.stop());

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

    const described = loadFileDescriptorSetFromBuffer(Buffer.from(toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files }))), { arrays: true });
    const ExecService = service(loadPackageDefinition(described), "meshexec.v1.ExecService");
    const client = new ExecService(stack.routerAddress, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${await stack.token(["agent:read"])}`);
    try {
      const reply = await new Promise<{ agents: unknown[] }>((resolve, reject) =>
        client.ListAgents({}, metadata, (err: Error | null, res: { agents: unknown[] }) => (err ? reject(err) : resolve(res))),
      );
      expect(reply.agents).to.deep.equal([]);
    } finally {
      client.close();
    }
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
    ]);
    const exec = set.file.find((f) => f.name === "meshexec/v1/exec.proto")!;
    const execContainer = exec.service.find((s) => s.name === "ExecService")!.method.find((m) => m.name === "ExecContainer");
    // google.api.http (field 72295728) stays in the method's options as an extension the transcoder reads.
    expect(execContainer?.options?.$unknown?.some((field) => field.no === 72295728)).to.equal(true);
  });
});
