import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { JobCancelAnswer, JobCancelOrder } from "../../gen/meshexec/v1/mesh.js";
import { GrpcStatus, MeshError } from "../../errors/index.js";
import type { Logger } from "../../log/index.js";
import { cancelJobSubjectOf } from "./forward-messages.js";

/**
 * Past this, the router coordinating the job is taken as unreachable: it waits up to 10 s for
 * the cancelled job to record its end (job-cancellation.ts), plus a margin for NATS.
 */
const CANCEL_JOB_REPLY_WITHIN_MS = 12_000;

/**
 * Cancels across the mesh: only the router coordinating a job holds its AbortController, so a
 * CancelJob reaching another router is passed to it on its cancel-job subject, and answered
 * once it has cancelled the job there.
 */
export class JobCancelRelay {
  private subscription?: Subscription;

  constructor(
    private readonly deps: {
      nats: NatsConnection;
      routerName: string;
      /** Cancels a job this router runs; false when it runs no such job. */
      cancelHere(jobId: string, cancelledBy: string): Promise<boolean>;
      log: Logger;
    },
  ) {}

  start(): void {
    this.subscription = this.deps.nats.subscribe(cancelJobSubjectOf(this.deps.routerName), {
      callback: (err, msg) => {
        if (err) return;
        let order: JobCancelOrder;
        try {
          order = JobCancelOrder.decode(msg.data);
        } catch {
          return; // a malformed message cancels nothing
        }
        this.deps.cancelHere(order.jobId, order.cancelledBy).then(
          (cancelled) => msg.respond(JobCancelAnswer.encode({ cancelled }).finish()),
          (err: unknown) => {
            this.deps.log.warn({ err, jobId: order.jobId }, "cancel from another router failed");
            msg.respond(JobCancelAnswer.encode({ cancelled: true }).finish());
          },
        );
      },
    });
  }

  /** Asks `router` to cancel the job it coordinates; true once it has, false when it runs no such job. */
  async cancelOn(router: string, jobId: string, cancelledBy: string): Promise<boolean> {
    try {
      const reply = await this.deps.nats.request(cancelJobSubjectOf(router), JobCancelOrder.encode({ jobId, cancelledBy }).finish(), {
        timeout: CANCEL_JOB_REPLY_WITHIN_MS,
      });
      return JobCancelAnswer.decode(reply.data).cancelled;
    } catch (err) {
      throw new MeshError(
        GrpcStatus.UNAVAILABLE,
        "router unreachable",
        `job ${jobId} runs on router ${router}, which did not answer the cancel within ${CANCEL_JOB_REPLY_WITHIN_MS / 1000} s`,
        { cause: err },
      );
    }
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}
