import { ServerInterceptingCall, status, type ServerInterceptor } from "@grpc/grpc-js";
import { Counter, Histogram, type Registry } from "prom-client";

/**
 * The go-grpc-prometheus metric set, so existing dashboards work: started, handled (by code)
 * and handling time for every method the server serves, health and reflection included.
 */
export function grpcServerMetricsInterceptor(registry: Registry): ServerInterceptor {
  const labelNames = ["grpc_type", "grpc_service", "grpc_method"] as const;
  const started = new Counter({ name: "grpc_server_started_total", help: "RPCs started on the server.", labelNames, registers: [registry] });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by status code.",
    labelNames: [...labelNames, "grpc_code"],
    registers: [registry],
  });
  const handling = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from an RPC's start to its status, on the server.",
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });

  return (method, call) => {
    const [service = "", name = ""] = method.path.slice(1).split("/");
    const labels = { grpc_type: grpcTypeOf(method.requestStream, method.responseStream), grpc_service: service, grpc_method: name };
    started.inc(labels);
    const endTimer = handling.startTimer(labels);
    let done = false;
    const finish = (code: status) => {
      if (done) return;
      done = true;
      handled.inc({ ...labels, grpc_code: status[code] });
      endTimer();
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => finish(status.CANCELLED) }),
      sendStatus: (statusObject, next) => {
        finish(statusObject.code);
        next(statusObject);
      },
    });
  };
}

function grpcTypeOf(clientStream: boolean, serverStream: boolean): string {
  if (clientStream && serverStream) return "bidi_stream";
  if (clientStream) return "client_stream";
  return serverStream ? "server_stream" : "unary";
}
