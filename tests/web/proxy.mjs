// A TCP proxy to the app that a test or a benchmark can cut, as a lost
// connection would: nothing gets through until it is mended. (Chromium's
// offline emulation does not reach the service worker; a cut socket does.)

import net from "node:net";

/** Listens on a free loopback port and forwards to `target` (a URL). */
export async function cuttable(target) {
  const { hostname, port } = new globalThis.URL(target);
  const sockets = new Set();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return client.destroy();
    const upstream = net.connect(Number(port), hostname);
    client.pipe(upstream).pipe(client);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  // A proxy left open by a failed test must not keep node running.
  server.unref();
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    mend() { cut = false; },
    close() { server.close(); },
  };
}
