/**
 * The page of `trackrec serve`: lists the recordings and plays one — HLS through hls.js (or a
 * browser's own HLS), MPEG-TS through mpegts.js, following a growing file live. No inline script
 * (the page is served with a Content-Security-Policy of `script-src 'self'`); names are inserted as
 * text, never as HTML.
 */

/** The HTML of `GET /`. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trackrec recordings</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.2rem; }
  table { border-collapse: collapse; margin-bottom: 1rem; }
  td, th { padding: .25rem .75rem; text-align: left; border-bottom: 1px solid #ddd; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .live { color: #c00; font-weight: 600; }
  video { width: 100%; max-width: 960px; background: #000; display: block; }
  #status { margin: .5rem 0; color: #555; }
  #status.error { color: #c00; }
</style>
</head>
<body>
<h1>trackrec recordings</h1>
<table>
  <thead><tr><th>recording</th><th>kind</th><th>size</th><th>duration</th><th>modified</th><th></th></tr></thead>
  <tbody id="recordings"><tr><td colspan="6">loading…</td></tr></tbody>
</table>
<div id="status">choose a recording</div>
<video id="player" controls muted playsinline></video>
<script src="/vendor/hls.min.js"></script>
<script src="/vendor/mpegts.js"></script>
<script src="/app.js"></script>
</body>
</html>
`;

/** The script of the page (`GET /app.js`). Plain ES2020 for any current browser. */
export const APP_JS = `'use strict';
(() => {
  const video = document.getElementById('player');
  const statusLine = document.getElementById('status');
  const tbody = document.getElementById('recordings');
  const state = { playing: null, kind: null, error: null };
  let current = null;
  let recordings = [];

  const mediaUrl = (path) => '/media/' + path.split('/').map(encodeURIComponent).join('/');
  const mb = (n) => (n / 1e6).toFixed(n < 1e7 ? 2 : 1) + ' MB';

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.className = isError ? 'error' : '';
    if (isError) state.error = text;
  }

  function stop() {
    if (current) current.destroy();
    current = null;
  }

  function play(rec) {
    stop();
    state.playing = rec.path;
    state.kind = rec.kind;
    state.error = null;
    const url = mediaUrl(rec.path);
    if (rec.kind === 'hls') {
      if (window.Hls && window.Hls.isSupported()) {
        const hls = new window.Hls({ enableWorker: true });
        hls.on(window.Hls.Events.ERROR, (_event, data) => {
          if (data.fatal) setStatus('hls.js: ' + data.type + ' ' + data.details, true);
        });
        hls.loadSource(url);
        hls.attachMedia(video);
        current = { destroy: () => hls.destroy() };
      } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
        video.src = url;
        current = { destroy: () => { video.removeAttribute('src'); video.load(); } };
      } else {
        setStatus('this browser cannot play HLS (no MediaSource)', true);
        return;
      }
    } else if (rec.kind === 'mp4') {
      // A finished MP4 plays natively; a growing one is fragmented and plays up to its last fragment.
      video.src = url;
      current = { destroy: () => { video.removeAttribute('src'); video.load(); } };
    } else {
      if (!window.mpegts || !window.mpegts.isSupported()) {
        setStatus('this browser cannot play MPEG-TS (no MediaSource)', true);
        return;
      }
      const live = rec.live === true;
      const player = window.mpegts.createPlayer(
        { type: 'mpegts', isLive: live, url: live ? url + '?follow=1&from=live' : url },
        { enableWorker: false, lazyLoad: false, liveBufferLatencyChasing: false },
      );
      player.on(window.mpegts.Events.ERROR, (type, detail) => setStatus('mpegts.js: ' + type + ' ' + detail, true));
      player.attachMediaElement(video);
      player.load();
      current = { destroy: () => { player.pause(); player.unload(); player.detachMediaElement(); player.destroy(); } };
    }
    video.muted = true;
    const started = video.play();
    if (started && started.catch) started.catch(() => {});
    setStatus('playing ' + rec.path + (rec.live ? ' (live)' : ''), false);
    history.replaceState(null, '', '#play=' + encodeURIComponent(rec.path));
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function render() {
    tbody.textContent = '';
    if (recordings.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, 'no recordings yet').colSpan = 6;
      tbody.appendChild(tr);
      return;
    }
    for (const rec of recordings) {
      const tr = document.createElement('tr');
      cell(tr, rec.path);
      cell(tr, rec.kind === 'hls' ? 'HLS' : rec.kind === 'mp4' ? 'MP4' : 'MPEG-TS');
      cell(tr, mb(rec.bytes), 'num');
      cell(tr, rec.duration === undefined ? '' : rec.duration.toFixed(1) + ' s', 'num');
      cell(tr, new Date(rec.modified).toLocaleString());
      const td = cell(tr, rec.live ? 'live ' : '', rec.live ? 'live' : '');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'play';
      button.addEventListener('click', () => play(rec));
      td.appendChild(button);
      tbody.appendChild(tr);
    }
  }

  async function refresh() {
    try {
      const res = await fetch('/api/recordings', { cache: 'no-store' });
      recordings = (await res.json()).recordings;
      render();
    } catch (err) {
      setStatus('cannot list recordings: ' + err, true);
    }
  }

  window.trackrec = { state, play, refresh, recordings: () => recordings };

  refresh().then(() => {
    const m = /^#play=(.+)$/.exec(location.hash);
    if (!m) return;
    const path = decodeURIComponent(m[1]);
    const rec = recordings.find((r) => r.path === path);
    if (rec) play(rec);
    else setStatus('no recording ' + path, true);
  });
  setInterval(refresh, 5000);
})();
`;
