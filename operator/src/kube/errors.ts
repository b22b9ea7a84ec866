/**
 * An error answer of the Kubernetes API. The gateway turns the client library's ApiException into this so callers
 * branch on `status` (404, 409, 410, …) without importing the library.
 */
export class KubeApiError extends Error {
  readonly status: number;
  /** The Status object's `reason`, e.g. NotFound, Conflict, Forbidden. */
  readonly reason: string | undefined;
  constructor(status: number, message: string, reason?: string) {
    super(message);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
  }
}

export function isKubeStatus(err: unknown, status: number): boolean {
  return err instanceof KubeApiError && err.status === status;
}

export const isNotFound = (err: unknown): boolean => isKubeStatus(err, 404);
export const isConflict = (err: unknown): boolean => isKubeStatus(err, 409);
