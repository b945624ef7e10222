// The page's one way to the APIs: the bearer token in a header (never in a
// URL), errors as the API words them.

const SESSION = "todo.session";

/** An answer other than 2xx: the API's `{error: {code, message, field}}`. */
export class ApiError extends Error {
  constructor(status, { code = "unavailable", message = "The server did not answer.", field } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The signed-in user, kept for this tab only (sessionStorage). */
export const session = {
  get() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(SESSION));
      return saved && Date.parse(saved.expires_at) > Date.now() ? saved : null;
    } catch {
      return null;
    }
  },
  set(signedIn) {
    sessionStorage.setItem(SESSION, JSON.stringify(signedIn));
  },
  forget() {
    sessionStorage.clear();
    // The listings the service worker kept for offline use go too.
    navigator.serviceWorker?.controller?.postMessage("forget");
  },
};

/**
 * Whether the page reads the server or the copies the service worker kept:
 * a `saved` event (its `detail` when the copy was read) when an answer came
 * from the copies, `live` when one came from the server.
 */
export const connection = new EventTarget();

async function send(method, path, body, token, key) {
  const headers = { accept: "application/json" };
  // A file goes as it is (an import's); anything else as JSON.
  const file = body instanceof Blob;
  if (body !== undefined) headers["content-type"] = file ? body.type || "text/plain" : "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers["idempotency-key"] = key;
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined || file ? body : JSON.stringify(body), cache: "no-store",
    });
  } catch {
    connection.dispatchEvent(new Event("lost"));
    throw new ApiError(0, { message: "The server cannot be reached; check the connection." });
  }
  const saved = response.headers.get("x-todo-saved-at");
  connection.dispatchEvent(saved ? new CustomEvent("saved", { detail: saved }) : new Event("live"));
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => ({}));
  if (response.ok) return answer;
  const error = new ApiError(response.status, answer.error);
  const wait = response.headers.get("retry-after");
  if (wait) error.message = `${error.message} Try again in ${wait} s.`;
  throw error;
}

/** Sign up (`signup`) or in (`signin`): the session. */
export async function signIn(action, username, password) {
  const signedIn = await send("POST", `/api/auth/${action}`, { username, password });
  session.set(signedIn);
  return signedIn;
}

/** The APIs of the signed-in user; `onSignedOut` when the token is refused. */
export class Api {
  constructor(signedIn, onSignedOut) {
    this.user = signedIn.user_id;
    this.token = signedIn.token;
    this.onSignedOut = onSignedOut;
    this.renew(signedIn.expires_at);
  }

  /** `/api/{user}` + `path`, with the query's defined values. */
  url(path, query = {}) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== "") params.append(name, value);
    }
    const search = params.toString();
    return `/api/${encodeURIComponent(this.user)}${path}${search ? `?${search}` : ""}`;
  }

  async call(method, path, { query, body, key } = {}) {
    try {
      return await send(method, this.url(path, query), body, this.token, key);
    } catch (error) {
      if (error.status === 401) this.signOut("Your session ended; sign in again.");
      throw error;
    }
  }

  get(path, query) { return this.call("GET", path, { query }); }
  post(path, body) { return this.call("POST", path, { body }); }
  patch(path, body) { return this.call("PATCH", path, { body }); }
  put(path, body) { return this.call("PUT", path, { body }); }
  delete(path) { return this.call("DELETE", path); }
  upload(path, query, file) { return this.call("POST", path, { query, body: file }); }

  /** Asks for a new token five minutes before this one expires. */
  renew(expiresAt) {
    clearTimeout(this.renewal);
    const due = Math.max(Date.parse(expiresAt) - Date.now() - 5 * 60_000, 10_000);
    this.renewal = setTimeout(async () => {
      try {
        const signedIn = await send("POST", "/api/auth/refresh", {}, this.token);
        this.token = signedIn.token;
        session.set(signedIn);
        this.renew(signedIn.expires_at);
      } catch (error) {
        if (error.status === 401) this.signOut("Your session ended; sign in again.");
        else this.renew(new Date(Date.now() + 5 * 60_000 + 30_000).toISOString());
      }
    }, due);
  }

  /** Forgets the token in this page and says why. */
  signOut(reason = "") {
    clearTimeout(this.renewal);
    if (this.token === null) return;
    this.token = null;
    session.forget();
    this.onSignedOut(reason);
  }
}
