// The API client: the token lives in sessionStorage (this tab only) and goes in the Authorization header.
const KEY = "popflow.token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function request(path, options = {}) {
  const headers = { Authorization: `Bearer ${token.get() || ""}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let message = response.statusText;
    try {
      const body = await response.json();
      message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch { /* not JSON */ }
    if (response.status === 401) window.dispatchEvent(new CustomEvent("popflow:unauthorized"));
    throw new ApiError(response.status, message);
  }
  return response;
}

export async function getJSON(path) {
  return (await request(path)).json();
}

export async function postJSON(path, body) {
  const response = await request(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return response.json();
}

const tables = new Map();

// A release table as {columns, rows}, fetched once per page load (releases never change).
export async function releaseTable(releaseId, table) {
  const key = `${releaseId}/${table}`;
  if (!tables.has(key)) {
    tables.set(key, getJSON(`/api/releases/${releaseId}/tables/${encodeURIComponent(table)}?format=json`));
  }
  return tables.get(key);
}

// Save a release table in a file format (the token cannot ride on a plain link).
export async function download(releaseId, table, format) {
  const response = await request(`/api/releases/${releaseId}/tables/${encodeURIComponent(table)}?format=${format}`);
  const url = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: `${releaseId}.${table}.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Queue a release and poll its job until it is done; onProgress(job) is called on every poll.
export async function createRelease(body, onProgress) {
  let job = await postJSON("/api/releases", body);
  while (job.status === "queued" || job.status === "running") {
    onProgress(job);
    await new Promise((resolve) => setTimeout(resolve, 400));
    job = await getJSON(`/api/jobs/${job.id}`);
  }
  onProgress(job);
  if (job.status === "failed") throw new ApiError(400, job.error);
  return job.release_id;
}

// Read a server-sent event stream with fetch() (the token rides in the Authorization header, which
// EventSource cannot send): calls onData(text) for each event's data; resolves when the server ends the stream.
export async function openStream(path, signal, onData) {
  const response = await request(path, { signal, headers: { Accept: "text/event-stream" } });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const blocks = buffer.split(/\r?\n\r?\n/);
    buffer = blocks.pop();
    for (const block of blocks) {
      const data = sseData(block);
      if (data !== null) await onData(data);
    }
  }
}

// The data of one SSE block ("data:" lines joined by newlines), or null for a comment-only block.
function sseData(block) {
  const lines = block.split(/\r?\n/).filter((line) => line.startsWith("data:"));
  return lines.length ? lines.map((line) => line.slice(5).replace(/^ /, "")).join("\n") : null;
}
