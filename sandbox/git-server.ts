/**
 * A Git server for the Flux end-to-end test: Git's own smart-HTTP CGI program (`git
 * http-backend`) behind a small Node HTTP server on 127.0.0.1, serving the bare repositories under
 * one folder, read and write, without authentication. source-controller clones from it as from
 * any Git host; the test commits in a work tree and pushes to the bare repository on disk.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface GitServer {
  /** `http://127.0.0.1:<port>`; a repository `<root>/apps.git` is at `<url>/apps.git`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startGitServer(root: string): Promise<GitServer> {
  const server = createServer((request, response) => { serveCgi(root, request, response); });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** One request through `git http-backend` (CGI/1.1: the request in variables and stdin, the answer's headers then body on stdout). */
function serveCgi(root: string, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? "/", "http://git");
  const header = (name: string): string => String(request.headers[name] ?? "");
  const backend = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      // Pushes come from the test through the file system; this lets a `git push` over HTTP work too.
      GIT_CONFIG_COUNT: "2",
      GIT_CONFIG_KEY_0: "safe.directory",
      GIT_CONFIG_VALUE_0: "*",
      GIT_CONFIG_KEY_1: "http.receivepack",
      GIT_CONFIG_VALUE_1: "true",
      REMOTE_USER: "sandbox",
      REMOTE_ADDR: request.socket.remoteAddress ?? "127.0.0.1",
      REQUEST_METHOD: request.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: header("content-type"),
      ...(request.headers["content-length"] === undefined ? {} : { CONTENT_LENGTH: header("content-length") }),
      ...(request.headers["content-encoding"] === undefined ? {} : { HTTP_CONTENT_ENCODING: header("content-encoding") }),
      ...(request.headers["git-protocol"] === undefined ? {} : { GIT_PROTOCOL: header("git-protocol") }),
    },
    stdio: ["pipe", "pipe", "ignore"],
  });
  request.pipe(backend.stdin);
  let head = Buffer.alloc(0);
  let answered = false;
  backend.stdout.on("data", (chunk: Buffer) => {
    if (answered) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    answered = true;
    writeHead(response, head.subarray(0, end).toString("latin1"));
    response.write(head.subarray(end + 4));
  });
  backend.on("close", () => {
    if (!answered) response.writeHead(502).end("git http-backend gave no answer\n");
    else response.end();
  });
  backend.on("error", () => { if (!answered) response.writeHead(500).end("git http-backend did not start\n"); });
}

function writeHead(response: ServerResponse, head: string): void {
  let status = 200;
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
    else response.setHeader(name, value);
  }
  response.writeHead(status);
}
