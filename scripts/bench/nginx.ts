/**
 * nginx as the reference Host-header proxy: its own temporary config, pid
 * file, logs and temp folders, on a free loopback port, routing the client's
 * host to the tunnel port with pooled keep-alive upstream connections. Never
 * the system nginx.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect } from "../../lib/net.ts";
import { isAlive } from "../../lib/proc/process.ts";
import { onCleanup, sleep, stopPids } from "./cleanup.ts";
import { descendants } from "./cpu.ts";
import { freePort } from "./tools.ts";

/** A running nginx. */
export interface Nginx {
  port: number;
  /** The same routing on HTTPS, when a certificate was given. */
  tlsPort: number | undefined;
  /** Master and workers. */
  pids(): number[];
}

/** Renders the config: one worker (petit's proxy is one process too), keep-alive pool to the tunnel. */
function renderConfig(dir: string, port: number, host: string, tunnelPort: number, tls?: { port: number; cert: string; key: string }): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  # Uploads of any size, streamed as they come (as a user proxying uploads would set it).
  client_max_body_size 0;
  proxy_request_buffering off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  upstream tunnel {
    server 127.0.0.1:${tunnelPort};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port} default_server;
    return 404;
  }
  server {
    listen 127.0.0.1:${port};
${tls ? `    listen 127.0.0.1:${tls.port} ssl;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
` : ""}    server_name ${host};
    location / {
      proxy_pass http://tunnel;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_max_temp_file_size 0;
    }
  }
}
`;
}

/** Starts nginx routing `host` to 127.0.0.1:`tunnelPort`; registers it for cleanup. */
export async function startNginx(options: { host: string; tunnelPort: number; tls?: { cert: string; key: string } }): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), "petit-bench-nginx-"));
  mkdirSync(join(dir, "tmp"));
  const port = await freePort();
  const tls = options.tls && { port: await freePort(), ...options.tls };
  const config = join(dir, "nginx.conf");
  writeFileSync(config, renderConfig(dir, port, options.host, options.tunnelPort, tls));
  // -e: the error log from the first line on, so nginx never opens the system's /var/log/nginx.
  const child = spawn("nginx", ["-e", join(dir, "error.log"), "-p", dir, "-c", config], { stdio: ["ignore", "ignore", "inherit"] });
  const pid = child.pid!;
  onCleanup(`nginx (pid ${pid})`, async () => {
    await stopPids([...descendants(pid), pid]);
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect("127.0.0.1", port, 500))) {
    if (!isAlive(pid) || Date.now() > deadline) throw new Error(`nginx did not listen on 127.0.0.1:${port} (config "${config}")`);
    await sleep(50);
  }
  return { port, tlsPort: tls?.port, pids: () => [pid, ...descendants(pid)] };
}
