/** The REST API's JSON, as the edge sends it (snake_case, exactly as on the wire). */

export interface HostResult {
  hostname: string;
  status: "ok" | "failed" | "timeout";
  stdout: string;
  stderr: string;
  /** Absent when the command did not run to an exit; status and error say why. */
  exit_code?: number;
  changed: boolean;
  error: string;
  duration_ms: number;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
}

export interface ExecResponse {
  job_id: string;
  results: HostResult[];
}

/** One line of `?stream=true`'s NDJSON. */
export type ExecStreamEvent =
  | { type: "accepted"; job_id: string; hosts: string[] }
  | { type: "output"; hostname: string; stream: "stdout" | "stderr"; data: string }
  /** The reader fell behind; no more output events follow, results still do. */
  | { type: "output_dropped"; queue_limit_bytes: number }
  | { type: "result"; result: HostResult }
  | { type: "summary"; job_id: string; targeted: number; ok: number; failed: number; timeout: number }
  /** A failure after the 200 went out, e.g. the container is missing on the one host _any picked; always the last line. */
  | { type: "error"; error: string; details: string; code: number };

export interface AgentInfo {
  hostname: string;
  labels: Record<string, string>;
  connected_since: string | null;
  in_flight: number;
  version: string;
  draining: boolean;
}

export interface Job {
  job_id: string;
  subject: string;
  target: string;
  container_id: string;
  command: string[];
  env_keys: string[];
  status: "running" | "completed" | "partial_failure" | "failed";
  error: string;
  hosts: string[];
  results: HostResult[];
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface JobsPage {
  jobs: Job[];
  next_cursor: string;
}

export interface AuditEntry {
  id: string;
  time: string | null;
  subject: string;
  source_address: string;
  target: string;
  container_id: string;
  command: string[];
  /** The gRPC status name, e.g. OK or PERMISSION_DENIED. */
  grpc_code: string;
  http_status: number;
  job_id: string;
  request_id: string;
  error: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  next_cursor: string;
}

/** The answer of POST /agents/{hostname}/revoke. */
export interface AgentRevocation {
  hostname: string;
  revoked_at: string;
  session_ended: boolean;
}
