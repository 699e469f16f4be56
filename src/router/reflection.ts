import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from "@bufbuild/protobuf/wkt";
import type { Server, ServerDuplexStream, ServiceDefinition } from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { packageRoot } from "../config/index.js";
import { GrpcStatus } from "../errors/index.js";

/**
 * Every file the router serves a service from, with every file it imports, as `buf build`
 * wrote them (buf.yaml): proto/'s own names and imports, so reflection clients (buf curl,
 * grpcurl) can resolve what they are sent. The same set Envoy's transcoder reads.
 */
const DESCRIPTOR_SET = "dist/meshexec.binpb";
const REFLECTION_SERVICES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];

/** ServerReflectionRequest and its response, as proto-loader reads them with keepCase (v1 and v1alpha are alike). */
interface ReflectionRequest {
  host?: string;
  message_request?: "file_by_filename" | "file_containing_symbol" | "file_containing_extension" | "all_extension_numbers_of_type" | "list_services";
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
}

interface ReflectionResponse {
  valid_host: string;
  original_request: ReflectionRequest;
  file_descriptor_response?: { file_descriptor_proto: Uint8Array[] };
  all_extension_numbers_response?: { base_type_name: string; extension_number: number[] };
  list_services_response?: { service: Array<{ name: string }> };
  error_response?: { error_code: number; error_message: string };
}

/**
 * Serves gRPC server reflection (v1 and v1alpha) from the descriptor set, so buf curl, grpcurl
 * and the like can list, describe and call the router without the proto files.
 */
export function addReflection(server: Server): void {
  const path = join(packageRoot(), DESCRIPTOR_SET);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${path}, the descriptor set reflection serves; npm run build writes it`, { cause: err });
  }
  const set = fromBinary(FileDescriptorSetSchema, bytes);
  const files = new DescriptorFiles(set.file);
  // Its own codecs from the reflection files alone (they import nothing): all files cost ~50 ms more per start.
  const reflectionFiles = create(FileDescriptorSetSchema, { file: set.file.filter((file) => file.package.startsWith("grpc.reflection.")) });
  const definitions = loadFileDescriptorSetFromBuffer(Buffer.from(toBinary(FileDescriptorSetSchema, reflectionFiles)), { keepCase: true, oneofs: true });
  for (const name of REFLECTION_SERVICES) {
    server.addService(definitions[name] as ServiceDefinition, {
      ServerReflectionInfo(call: ServerDuplexStream<ReflectionRequest, ReflectionResponse>) {
        // Files already sent on this stream are not sent again as imports (as grpc-go does).
        const sent = new Set<string>();
        call.on("data", (request: ReflectionRequest) => call.write(files.answer(request, sent)));
        call.on("end", () => call.end());
      },
    });
  }
}

/** The set's files, found by name, by the symbols they declare, and by the extensions they hold. */
class DescriptorFiles {
  private readonly encoded = new Map<string, Uint8Array>();
  private readonly imports = new Map<string, string[]>();
  private readonly fileBySymbol = new Map<string, string>();
  /** Extended message → field number → the file extending it. */
  private readonly extensions = new Map<string, Map<number, string>>();
  private readonly services: string[] = [];

  constructor(files: FileDescriptorProto[]) {
    for (const file of files) {
      this.encoded.set(file.name, toBinary(FileDescriptorProtoSchema, file));
      this.imports.set(file.name, file.dependency);
      const scope = file.package ? `${file.package}.` : "";
      this.addMessages(file.name, scope, file.messageType);
      this.addEnums(file.name, scope, file.enumType);
      this.addExtensions(file.name, scope, file.extension);
      for (const service of file.service) {
        const name = `${scope}${service.name}`;
        this.services.push(name);
        this.fileBySymbol.set(name, file.name);
        for (const method of service.method) this.fileBySymbol.set(`${name}.${method.name}`, file.name);
      }
    }
  }

  answer(request: ReflectionRequest, sent: Set<string>): ReflectionResponse {
    const response: ReflectionResponse = { valid_host: request.host ?? "", original_request: request };
    const notFound = (what: string) => ({ ...response, error_response: { error_code: GrpcStatus.NOT_FOUND, error_message: `${what} not found` } });
    const fileAnswer = (file: string | undefined, what: string) =>
      file === undefined ? notFound(what) : { ...response, file_descriptor_response: { file_descriptor_proto: this.withImports(file, sent) } };
    switch (request.message_request) {
      case "list_services":
        return { ...response, list_services_response: { service: this.services.map((name) => ({ name })) } };
      case "file_by_filename": {
        const name = request.file_by_filename ?? "";
        return fileAnswer(this.encoded.has(name) ? name : undefined, `file "${name}"`);
      }
      case "file_containing_symbol":
        return fileAnswer(this.fileBySymbol.get(request.file_containing_symbol ?? ""), `symbol "${request.file_containing_symbol}"`);
      case "file_containing_extension": {
        const { containing_type = "", extension_number = 0 } = request.file_containing_extension ?? {};
        return fileAnswer(this.extensions.get(containing_type)?.get(extension_number), `extension ${extension_number} of "${containing_type}"`);
      }
      case "all_extension_numbers_of_type": {
        const type = request.all_extension_numbers_of_type ?? "";
        if (!this.fileBySymbol.has(type)) return notFound(`type "${type}"`);
        return { ...response, all_extension_numbers_response: { base_type_name: type, extension_number: [...(this.extensions.get(type)?.keys() ?? [])] } };
      }
      default:
        return { ...response, error_response: { error_code: GrpcStatus.UNIMPLEMENTED, error_message: "unknown reflection request" } };
    }
  }

  /** The file, then each file it imports, directly or not, that this stream has not been sent yet. */
  private withImports(name: string, sent: Set<string>): Uint8Array[] {
    const order = [name];
    for (let i = 0; i < order.length; i++) {
      for (const dependency of this.imports.get(order[i]) ?? []) {
        if (!order.includes(dependency) && !sent.has(dependency)) order.push(dependency);
      }
    }
    order.forEach((file) => sent.add(file));
    return order.map((file) => this.encoded.get(file)!);
  }

  private addMessages(file: string, scope: string, messages: DescriptorProto[]): void {
    for (const message of messages) {
      const name = `${scope}${message.name}`;
      this.fileBySymbol.set(name, file);
      this.addMessages(file, `${name}.`, message.nestedType);
      this.addEnums(file, `${name}.`, message.enumType);
      this.addExtensions(file, `${name}.`, message.extension);
    }
  }

  private addEnums(file: string, scope: string, enums: EnumDescriptorProto[]): void {
    for (const enumType of enums) this.fileBySymbol.set(`${scope}${enumType.name}`, file);
  }

  private addExtensions(file: string, scope: string, extensions: FieldDescriptorProto[]): void {
    for (const extension of extensions) {
      this.fileBySymbol.set(`${scope}${extension.name}`, file);
      // Type names in descriptors are fully qualified with a leading dot; requests name them without.
      const extended = extension.extendee.replace(/^\./, "");
      const byNumber = this.extensions.get(extended) ?? new Map<number, string>();
      this.extensions.set(extended, byNumber.set(extension.number, file));
    }
  }
}
