// The chat's language engine in the page: the same Rust code the chat runs
// (crates/language), compiled to WebAssembly (crates/language-web), so that
// quick add reads a line as the chat would, with no request.

let engine = null;

/** Loads the engine once (it waits for the first call). */
export function load() {
  let exports = null;
  engine ??= WebAssembly.instantiateStreaming(fetch("/language.wasm"), host(() => exports.memory)).then(({ instance }) => {
    exports = instance.exports;
    performance.mark("todo-engine");
    return exports;
  }, (error) => {
    // The next call tries again (the page may have been offline).
    engine = null;
    throw error;
  });
  return engine;
}

/**
 * What the module asks of its host (it is built for WASI preview 1, whose
 * standard library needs these five): no environment, nowhere to write,
 * randomness for its hash maps; it never exits but by a panic.
 */
function host(memory) {
  const words = () => new DataView(memory().buffer);
  return {
    wasi_snapshot_preview1: {
      random_get(at, length) {
        crypto.getRandomValues(new Uint8Array(memory().buffer, at, length));
        return 0;
      },
      environ_sizes_get(count, size) {
        words().setUint32(count, 0, true);
        words().setUint32(size, 0, true);
        return 0;
      },
      environ_get: () => 0,
      fd_write: () => 8, // EBADF
      proc_exit(code) {
        throw new Error(`the language engine stopped (${code})`);
      },
    },
  };
}

/**
 * What `message` asks, read at `now` in `zone` with the user's `projects`
 * (names): `{kind: "calls", calls: [{tool, arguments}]}`, `{kind:
 * "unclear", question}`, `help`, `undo`, or `error` for a bad input.
 */
export async function read({ message, now = new Date(), zone, projects = [], listing = [], steps = [] }) {
  const exports = await load();
  const input = new TextEncoder().encode(JSON.stringify({ message, now: now.toISOString(), zone, projects, listing, steps }));
  const at = exports.engine_alloc(input.length);
  new Uint8Array(exports.memory.buffer, at, input.length).set(input);
  const packed = exports.engine_read(at, input.length);
  const [out, length] = [Number(packed >> 32n), Number(packed & 0xffff_ffffn)];
  const text = new TextDecoder().decode(new Uint8Array(exports.memory.buffer, out, length));
  exports.engine_free(out, length);
  return JSON.parse(text);
}
