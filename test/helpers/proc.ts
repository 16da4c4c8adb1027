/** Child processes and ports for tests: external clients in a clean environment, a free port. */
import { execFile } from 'node:child_process';
import net from 'node:net';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs an external client (python3 with boto3, the AWS CLI) with only what it needs in its
 * environment: no AWS config or credential files of the machine, no instance metadata.
 */
export function runTool(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = {
    PATH: '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...base, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err && !stderr ? String(err.message) : stderr });
    });
  });
}

/** A port free on 127.0.0.1 at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
