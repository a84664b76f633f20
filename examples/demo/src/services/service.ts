/** A running demo service. */
export interface DemoService {
  /** Its origin as the browser knows it. */
  url: string;
  /** Stops listening (open connections are closed) and stops its revocation feed. */
  close(): Promise<void>;
}
