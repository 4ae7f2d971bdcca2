import { escapeHtml } from '../html';
/**
 * The chat page every node serves at `/`. It opens `/chat?name=…` through the proxy, shows which
 * node it landed on and each line's sender and node, and reconnects (landing wherever the proxy
 * places it) when its connection ends.
 */

/** The HTML of the chat page, naming the node that served it. */
export function chatPage(nodeName: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchboard chat</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }
  .mono, #node, #page-node { font-family: ui-monospace, monospace; font-weight: bold; }
  #log { list-style: none; padding: 0; font-family: ui-monospace, monospace; }
  #log li { padding: 0.15rem 0; border-bottom: 1px solid #eee; }
  #log .node { color: #777; }
</style>
</head>
<body>
<h1>Switchboard chat</h1>
<p>Page served by <span id="page-node">${escapeHtml(nodeName)}</span>. Chat socket: <span id="status">not connected</span>,
   on <span id="node">?</span>. Open a second tab: it may land on another node, and messages still reach it (Redis pub/sub).</p>
<form id="join"><input id="name" autocomplete="off" placeholder="your name" maxlength="32" required> <button>Join</button></form>
<form id="form" hidden><input id="input" autocomplete="off" placeholder="type a message"> <button>Send</button></form>
<ul id="log"></ul>
<script>
  const $ = (id) => document.getElementById(id);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let ws;
  let name = '';
  let retryDelay = 500;
  const note = (text) => {
    const li = document.createElement('li');
    li.textContent = text;
    $('log').prepend(li);
  };
  const line = (m) => {
    const li = document.createElement('li');
    const node = document.createElement('span');
    node.className = 'node';
    node.textContent = '[' + m.node + '] ';
    li.append(node, m.from + ': ' + m.text);
    $('log').prepend(li);
  };
  const connect = () => {
    $('status').textContent = 'connecting…';
    ws = new WebSocket(scheme + '//' + location.host + '/chat?name=' + encodeURIComponent(name));
    ws.onopen = () => { retryDelay = 500; $('status').textContent = 'open'; };
    ws.onmessage = (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.type === 'welcome') { $('node').textContent = frame.node; note('joined as ' + frame.name + ' on ' + frame.node); }
      else if (frame.type === 'message') line(frame);
      else if (frame.type === 'error') note('! ' + frame.text);
    };
    ws.onclose = (event) => {
      $('status').textContent = 'closed (' + event.code + '), reconnecting…';
      $('node').textContent = '?';
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 8000);
    };
  };
  $('join').onsubmit = (event) => {
    event.preventDefault();
    name = $('name').value.trim();
    if (!name) return;
    $('join').hidden = true;
    $('form').hidden = false;
    $('input').focus();
    connect();
  };
  $('form').onsubmit = (event) => {
    event.preventDefault();
    const text = $('input').value;
    if (text && ws && ws.readyState === WebSocket.OPEN) { ws.send(text); $('input').value = ''; }
  };
</script>
</body>
</html>
`;
}
