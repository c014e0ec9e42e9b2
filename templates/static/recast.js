/* recast revisit site: one script for the library, session and chapter pages.
 *
 * Works from file:// and from a server: every page carries its data as JSON in
 * <script id="recast-data" type="application/json">, caption tracks are built
 * here from embedded cues (browsers refuse <track src> on file://), and the
 * library loads each session's search.js with <script src>.
 * Text from the data is only ever inserted with textContent/createElement.
 */
(function () {
  'use strict';

  var dataEl = document.getElementById('recast-data');
  var DATA = {};
  try { DATA = dataEl ? JSON.parse(dataEl.textContent) : {}; } catch (e) { DATA = {}; }

  // ------------------------------------------------------------------ helpers

  function fmt(t) {
    t = Math.max(0, Math.floor(t || 0));
    var h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    var ss = (s < 10 ? '0' : '') + s;
    if (h) return h + ':' + (m < 10 ? '0' : '') + m + ':' + ss;
    return m + ':' + ss;
  }

  function norm(s) {
    return String(s).toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  function debounce(fn, ms) {
    var timer = 0;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  // Index of the last item whose start is <= t, or -1.
  function bsearch(starts, t) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }

  function escapeRegExp(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

  function terms(query) { return norm(query).split(/\s+/).filter(Boolean); }
  // The terms without their English endings, for a second try when the words as
  // typed match nothing ("volcanos" finds "volcanoes", "tectonic" plates "tectonics");
  // null when no term has an ending to drop.
  function loosened(words) {
    var changed = false;
    var out = words.map(function (w) {
      var m = /^(.{4,}?)(ies|es|s|ing|ed|er|ly|al)$/.exec(w);
      var stem = m ? m[1] : (w.length >= 6 ? w.slice(0, -1) : w);
      if (stem !== w) changed = true;
      return stem;
    });
    return changed ? out : null;
  }

  // Text with every occurrence of the query terms wrapped in <mark>.
  function highlighted(text, words) {
    var frag = document.createDocumentFragment();
    if (!words.length) { frag.appendChild(document.createTextNode(text)); return frag; }
    var re;
    try { re = new RegExp(words.map(escapeRegExp).join('|'), 'giu'); } catch (e) { re = null; }
    var last = 0, m;
    if (re) {
      while ((m = re.exec(text)) !== null) {
        if (!m[0]) { re.lastIndex++; continue; }
        if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
        frag.appendChild(el('mark', null, m[0]));
        last = m.index + m[0].length;
      }
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  // A window of `text` around position `at`, at most `width` characters.
  function snippet(text, at, width) {
    if (text.length <= width) return text;
    var start = Math.max(0, Math.min(at - Math.floor(width / 3), text.length - width));
    var sp = text.lastIndexOf(' ', start);
    if (sp > 0 && start - sp < 20) start = sp + 1;
    var out = text.slice(start, start + width);
    return (start > 0 ? '\u2026' : '') + out + (start + width < text.length ? '\u2026' : '');
  }

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
  }

  function languageName(lang) {
    try { return new Intl.DisplayNames(['en'], { type: 'language' }).of(lang) || lang; } catch (e) { return lang; }
  }

  // ------------------------------------------------------------------ progress (localStorage)

  // Keys: recast:v1:<slug>:chapter:<index> -> {done, watched (s into the chapter), t}
  //       recast:v1:<slug>:position        -> seconds on the source timeline
  var store = {
    get: function (key) {
      try { var v = window.localStorage.getItem(key); return v ? JSON.parse(v) : null; } catch (e) { return null; }
    },
    set: function (key, value) {
      try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage off or full */ }
    }
  };
  function chapterKey(slug, index) { return 'recast:v1:' + slug + ':chapter:' + index; }
  function positionKey(slug) { return 'recast:v1:' + slug + ':position'; }
  function getProgress(slug, index) {
    var p = store.get(chapterKey(slug, index));
    return { done: !!(p && p.done), watched: (p && +p.watched) || 0 };
  }
  function setProgress(slug, index, p) {
    var before = getProgress(slug, index);
    store.set(chapterKey(slug, index), { done: !!p.done, watched: Math.round(p.watched * 10) / 10, t: Date.now() });
    lmsSend(before.done !== !!p.done);
  }

  // ------------------------------------------------------------------ LMS (SCORM package)

  // In a SCORM package (`recast package`) the pages run in a frame of the launch
  // page, which lends them its LMS connection as window.parent.recastLMS (see
  // recast/scorm.py). Progress stays in localStorage and is mirrored to the LMS:
  // restored when a page opens (another device, cleared storage), sent at once when
  // a chapter becomes done or not done, else at most every LMS_EVERY ms and when the
  // page goes away, so the LMS is not asked to store something every second.
  var LMS_EVERY = 30000;
  var lms = null;
  try {
    if (window.parent !== window && window.parent.recastLMS && window.parent.recastLMS.connected) lms = window.parent.recastLMS;
  } catch (e) { lms = null; /* another origin, or a file:// page: no LMS */ }
  var lmsSent = 0, lmsPending = false;  // progress of this page's session not sent yet

  // chapter -> [1] when done, [0, seconds watched] when begun. cmi.suspend_data holds
  // at most 4096 characters in SCORM 1.2 and an LMS refuses a longer value whole, so
  // past that the partly watched chapters are left out (about 400 done chapters fit).
  var SUSPEND_MAX = 4096;
  function lmsState(slug, chapters) {
    var c = {}, partial = {};
    chapters.forEach(function (ch) {
      var p = getProgress(slug, ch.index);
      if (p.done) c[ch.index] = [1];
      else if (p.watched > 0) partial[ch.index] = [0, Math.round(p.watched)];
    });
    var state = { v: 1, s: slug, c: Object.assign({}, c, partial), p: +store.get(positionKey(slug)) || 0 };
    var text = JSON.stringify(state);
    if (text.length > SUSPEND_MAX) {
      state.c = c;
      text = JSON.stringify(state);
    }
    return text.length > SUSPEND_MAX ? null : text;
  }
  function lmsSend(now) {
    if (!lms) return;
    lmsPending = true;
    if (!now && Date.now() - lmsSent < LMS_EVERY) return;
    lmsFlush();
  }
  function lmsFlush() {
    if (!lms || !lmsPending) return;
    var slug = DATA.slug || '', chapters = DATA.chapters || [];
    var sp = sessionProgress(slug, chapters);
    var text = lmsState(slug, chapters);
    if (text !== null) {
      try { lms.save(text, sp.count > 0 && sp.done === sp.count); } catch (e) { /* the launch page is gone */ }
    }
    lmsSent = Date.now();
    lmsPending = false;
  }
  // What the LMS holds joins what this browser holds: done if either says done,
  // the longer of the two watched times.
  function lmsRestore(slug, chapters) {
    if (!lms) return;
    var saved = null;
    try { saved = JSON.parse(lms.load() || 'null'); } catch (e) { saved = null; }
    if (saved && saved.v === 1 && saved.s === slug && saved.c && typeof saved.c === 'object') {
      chapters.forEach(function (ch) {
        var got = saved.c[ch.index];
        if (!Array.isArray(got)) return;
        var p = getProgress(slug, ch.index);
        var done = p.done || got[0] === 1, watched = done ? p.watched : Math.max(p.watched, +got[1] || 0);
        if (done !== p.done || watched !== p.watched) {
          store.set(chapterKey(slug, ch.index), { done: done, watched: watched, t: Date.now() });
        }
      });
      if (+saved.p > 0 && !store.get(positionKey(slug))) store.set(positionKey(slug), +saved.p);
    }
    try { lms.onFinish(lmsFlush); } catch (e) { /* the launch page is gone */ }
    // A page being closed may not get its last requests out; a hidden one still can.
    document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'hidden') lmsFlush(); });
    window.addEventListener('pagehide', lmsFlush);
  }

  function chapterFraction(p, ch) {
    if (p.done) return 1;
    var d = ch.end - ch.start;
    return d > 0 ? Math.min(1, p.watched / d) : 0;
  }
  function sessionProgress(slug, chapters) {
    var done = 0, watched = 0, total = 0, next = null, any = false;
    chapters.forEach(function (ch) {
      var p = getProgress(slug, ch.index), d = Math.max(0, ch.end - ch.start);
      if (p.done) done++;
      if (p.done || p.watched > 0) any = true;
      watched += chapterFraction(p, ch) * d;
      total += d;
      if (!p.done && !next) next = ch;
    });
    return { done: done, count: chapters.length, fraction: total > 0 ? watched / total : 0, next: next, started: any };
  }
  function showProgress(box, fraction, text, complete) {
    if (!box) return;
    box.hidden = false;
    var fill = box.querySelector('.progress__fill');
    if (fill) fill.style.width = Math.round(Math.min(1, fraction) * 100) + '%';
    var label = box.querySelector('.progress__text');
    if (label) label.textContent = text;
    box.classList.toggle('progress--done', !!complete);
  }
  function describe(sp) {
    if (!sp.started) return 'Not started';
    if (sp.count && sp.done === sp.count) return 'All ' + sp.count + ' chapters done';
    return sp.done + ' of ' + sp.count + ' chapters done \u00b7 ' + Math.round(sp.fraction * 100) + '% watched';
  }

  // ------------------------------------------------------------------ player

  // `offset` is where the played media starts on the source timeline (a clip's cut time).
  function Player(media, offset) {
    this.media = media;
    this.offset = offset || 0;
  }
  Player.prototype.time = function () {
    return this.media ? this.media.currentTime + this.offset : 0;
  };
  Player.prototype.seek = function (t, play) {
    var m = this.media;
    if (!m) return;
    var target = Math.max(0, t - this.offset);
    var go = function () {
      m.currentTime = target;
      if (play) { var p = m.play(); if (p && p.catch) p.catch(function () {}); }
    };
    if (m.readyState >= 1) go();
    else {
      m.addEventListener('loadedmetadata', go, { once: true });
      // Setting currentTime before metadata is allowed too; the browser seeks once it can.
      try { m.currentTime = target; } catch (e) { /* not yet */ }
    }
    if (play) this.reveal();
  };
  // On a phone the transcript lies below the player: a line pressed there would
  // start playback out of sight, so bring the player into view when it is not.
  Player.prototype.reveal = function () {
    var m = this.media;
    if (!m || !m.getBoundingClientRect || !m.scrollIntoView) return;
    var r = m.getBoundingClientRect();
    var h = window.innerHeight || document.documentElement.clientHeight;
    if (r.bottom > 48 && r.top < h - 48) return;
    var still = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    m.scrollIntoView({ block: 'nearest', behavior: still ? 'auto' : 'smooth' });
  };
  Player.prototype.toggle = function () {
    var m = this.media;
    if (!m) return;
    if (m.paused) { var p = m.play(); if (p && p.catch) p.catch(function () {}); } else m.pause();
  };

  // Caption track from embedded cues (times on the source timeline).
  function addCaptions(media, cues, lang, offset) {
    if (!media || media.tagName !== 'VIDEO' || !cues || !cues.length || typeof VTTCue === 'undefined') return null;
    var track = media.addTextTrack('captions', languageName(lang), lang);
    track.mode = 'hidden';
    cues.forEach(function (c) {
      var start = c[0] - offset, end = c[1] - offset;
      if (end <= 0 || end <= start) return;
      // VTTCue text is WebVTT markup: escape it so it shows literally.
      var text = String(c[2]).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      try { track.addCue(new VTTCue(Math.max(0, start), end, text)); } catch (e) { /* bad cue */ }
    });
    return track;
  }

  function CaptionsToggle(button, track) {
    var pref = store.get('recast:v1:captions');
    var on = pref === null ? true : !!pref;
    var self = this;
    this.button = button;
    this.track = track;
    this.set = function (value) {
      on = !!value;
      if (track) track.mode = on ? 'showing' : 'hidden';
      if (button) {
        button.setAttribute('aria-pressed', on ? 'true' : 'false');
        button.title = on ? 'Captions are on (c)' : 'Captions are off (c)';
      }
      store.set('recast:v1:captions', on);
    };
    this.toggle = function () { self.set(!on); };
    if (!track) { if (button) button.hidden = true; return; }
    if (button) button.addEventListener('click', this.toggle);
    // The native player's own captions menu changes the mode too: follow it.
    if (track && track.mode !== undefined && this.button) {
      var media = button.ownerDocument.getElementById('player');
      if (media && media.textTracks && media.textTracks.addEventListener) {
        media.textTracks.addEventListener('change', function () {
          var showing = track.mode === 'showing';
          if (showing !== on) { on = showing; button.setAttribute('aria-pressed', on ? 'true' : 'false'); store.set('recast:v1:captions', on); }
        });
      }
    }
    this.set(on);
  }

  // Playback speed, one choice for the whole site: a learner who watches at 1.5x
  // wants every chapter at 1.5x. The native player's own speed menu (Chromium,
  // Safari) changes it too, and is followed. `step` moves to the next speed on the
  // list, as the < and > shortcuts do.
  var SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
  function SpeedControl(select, media, status) {
    var self = this;
    var saved = +store.get('recast:v1:speed');
    var rate = saved >= 0.25 && saved <= 4 ? saved : 1;
    function label(r) { return (Math.round(r * 100) / 100) + '\u00d7'; }
    function show(r) {
      if (!select) return;
      var value = String(r);
      if (!Array.prototype.some.call(select.options, function (o) { return +o.value === r; })) {
        // a speed set from the native menu that the list does not have (0.25x, 3x)
        var o = document.createElement('option');
        o.value = value; o.textContent = label(r);
        select.appendChild(o);
      }
      Array.prototype.forEach.call(select.options, function (o) { o.selected = +o.value === r; });
    }
    this.rate = function () { return rate; };
    this.set = function (r, announce) {
      rate = r;
      if (media) { media.defaultPlaybackRate = r; media.playbackRate = r; }
      show(r);
      store.set('recast:v1:speed', r);
      if (announce && status) status.textContent = 'Speed ' + label(r);
    };
    this.step = function (dir) {
      var i = SPEEDS.indexOf(rate);
      if (i < 0) i = SPEEDS.filter(function (s) { return s < rate; }).length - (dir > 0 ? 1 : 0);
      var next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, i + dir))];
      self.set(next, true);
    };
    if (!media) { if (select) select.parentNode.hidden = true; return; }
    if (select) select.addEventListener('change', function () { self.set(+select.value, false); });
    media.addEventListener('ratechange', function () {
      if (media.playbackRate !== rate && media.playbackRate > 0) {
        rate = media.playbackRate;
        show(rate);
        store.set('recast:v1:speed', rate);
      }
    });
    this.set(rate, false);
  }

  // "Copy link to this moment": the page's address with #t= the time playing, which
  // opens the page there. The address bar gets it too, so where the clipboard is
  // out of reach (a page served without a secure context, a locked-down LMS frame)
  // the learner can copy it from there.
  function MomentLink(button, status, player) {
    if (!button) return;
    if (!player.media) { button.hidden = true; return; }
    var timer = 0;
    function said(text) {
      if (!status) return;
      status.textContent = text;
      clearTimeout(timer);
      timer = setTimeout(function () { status.textContent = ''; }, 6000);
    }
    function fallback(text) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      return ok;
    }
    button.addEventListener('click', function () {
      var t = Math.max(0, Math.round(player.time() * 10) / 10);
      var hash = '#t=' + t;
      var link = window.location.href.replace(/#.*$/, '') + hash;
      try { window.history.replaceState(null, '', hash); } catch (e) { /* a sandboxed frame */ }
      button.setAttribute('data-link', link);
      var done = function (ok) {
        said(ok ? 'Link copied (' + fmt(t) + ')' : 'Copy the address bar: it links to ' + fmt(t));
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(link).then(function () { done(true); }, function () { done(fallback(link)); });
      } else done(fallback(link));
    });
  }

  // ------------------------------------------------------------------ transcript

  function Transcript(container, lines, chapters, player, follow, withHeadings) {
    this.container = container;
    this.lines = lines;
    this.player = player;
    this.follow = follow;
    this.starts = lines.map(function (l) { return l[0]; });
    this.buttons = new Array(lines.length);
    this.current = -1;
    this.holdUntil = 0;
    this.tabbable = null;
    var self = this;

    var frag = document.createDocumentFragment();
    var chapterStarts = chapters.map(function (c) { return c.start; });
    var lastEnd = chapters.length ? chapters[chapters.length - 1].end : Infinity;
    var group = null, list = null, groupKey = null;
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      var key = 'all', title = '';
      if (withHeadings) {
        var ci = bsearch(chapterStarts, line[0]);
        if (ci < 0) { key = 'before'; title = 'Before the talk'; }
        else if (line[0] >= lastEnd) { key = 'after'; title = 'After the talk'; }
        else { key = 'c' + ci; title = chapters[ci].index + '. ' + chapters[ci].title; }
      }
      if (key !== groupKey) {
        groupKey = key;
        group = el('section', 'transcript__group');
        if (withHeadings) {
          var h = el('h3', 'transcript__heading', title);
          group.appendChild(h);
        }
        list = el('ol');
        group.appendChild(list);
        frag.appendChild(group);
      }
      var li = document.createElement('li');
      var b = el('button', 'line');
      b.type = 'button';
      b.tabIndex = i === 0 ? 0 : -1;
      b.dataset.i = i;
      b.appendChild(el('span', 'time', fmt(line[0])));
      b.appendChild(el('span', 'line__text', line[2]));
      li.appendChild(b);
      list.appendChild(li);
      this.buttons[i] = b;
    }
    if (lines.length) this.tabbable = this.buttons[0];
    else container.appendChild(el('p', 'muted', withHeadings ? 'No speech was found in this recording.'
                                                             : 'Nothing was said in this part of the recording.'));
    container.appendChild(frag);

    container.addEventListener('click', function (e) {
      var b = e.target.closest && e.target.closest('button.line');
      if (!b) return;
      var i = +b.dataset.i;
      self.setTabbable(i);
      self.player.seek(self.lines[i][0], true);
      self.show(i, false);
    });
    container.addEventListener('keydown', function (e) {
      var b = e.target.closest && e.target.closest('button.line');
      if (!b) return;
      var i = +b.dataset.i, to = null;
      if (e.key === 'ArrowDown') to = i + 1;
      else if (e.key === 'ArrowUp') to = i - 1;
      else if (e.key === 'Home') to = 0;
      else if (e.key === 'End') to = self.lines.length - 1;
      else if (e.key === 'PageDown') to = i + 10;
      else if (e.key === 'PageUp') to = i - 10;
      if (to === null || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
      e.preventDefault();
      to = Math.max(0, Math.min(self.lines.length - 1, to));
      self.setTabbable(to);
      self.buttons[to].focus();
    });
    // The reader scrolled: stop following for a while.
    var hold = function () { self.holdUntil = Date.now() + 5000; };
    container.addEventListener('wheel', hold, { passive: true });
    container.addEventListener('touchstart', hold, { passive: true });
    container.addEventListener('mousedown', hold);
  }
  Transcript.prototype.setTabbable = function (i) {
    var b = this.buttons[i];
    if (!b || b === this.tabbable) return;
    if (this.tabbable) this.tabbable.tabIndex = -1;
    b.tabIndex = 0;
    this.tabbable = b;
  };
  Transcript.prototype.update = function (t) {
    var i = bsearch(this.starts, t);
    if (i === this.current) return;
    if (this.current >= 0 && this.buttons[this.current]) {
      this.buttons[this.current].classList.remove('line--current');
      this.buttons[this.current].removeAttribute('aria-current');
    }
    this.current = i;
    if (i < 0) return;
    var b = this.buttons[i];
    b.classList.add('line--current');
    b.setAttribute('aria-current', 'true');
    if (!this.container.contains(document.activeElement)) this.setTabbable(i);
    if ((!this.follow || this.follow.checked) && Date.now() > this.holdUntil) this.scrollTo(i);
  };
  Transcript.prototype.scrollTo = function (i) {
    var b = this.buttons[i], c = this.container;
    if (!b) return;
    var top = b.offsetTop, bottom = top + b.offsetHeight;
    if (c.scrollHeight > c.clientHeight + 4) {
      // Scroll the transcript box itself, never the page, and keep the line in the
      // part of the box the window shows: before the page is scrolled, the sticky
      // sidebar of a laptop screen runs below the window's bottom edge.
      var r = c.getBoundingClientRect();
      var above = Math.max(0, -r.top), below = Math.max(0, r.bottom - (window.innerHeight || r.bottom));
      var seen = c.clientHeight - above - below;
      if (seen < 120) { above = 0; below = 0; seen = c.clientHeight; }
      // room to scroll the last lines up out of the hidden part
      var pad = Math.ceil(below) + 16;
      if (below > 0 && parseFloat(c.style.paddingBottom || '0') < pad) c.style.paddingBottom = pad + 'px';
      var from = c.scrollTop + above;
      if (top < from + 40 || bottom > from + seen - 20) {
        // a third of the way down, or higher where a long line would not fit below that
        c.scrollTop = Math.max(0, top - above - Math.min(seen / 3, Math.max(0, seen - (bottom - top) - 8)));
      }
    }
  };
  Transcript.prototype.show = function (i, flash) {
    this.scrollTo(i);
    var b = this.buttons[i];
    if (b && flash) {
      b.classList.remove('line--flash');
      void b.offsetWidth;
      b.classList.add('line--flash');
    }
  };

  // ------------------------------------------------------------------ search within a page

  function LineSearch(lines) {
    var normed = lines.map(function (l) { return norm(l[2]); });
    this.lines = lines;
    this.normed = normed;
    this.big = normed.join('\n');
    var starts = [0], pos = 0;
    for (var i = 0; i < normed.length - 1; i++) { pos += normed[i].length + 1; starts.push(pos); }
    this.lineStarts = starts;
  }
  // Lines containing every term, in time order: [{i, at (offset in line), time}].
  // Only the first `detail` hits get `at` and `time` (the rest are counted), which
  // keeps a common word across a hundred sessions fast.
  LineSearch.prototype.find = function (words, detail) {
    if (!words.length) return [];
    var longest = words.reduce(function (a, b) { return b.length > a.length ? b : a; });
    var single = words.length === 1;
    var out = [], from = 0, big = this.big, starts = this.lineStarts, normed = this.normed;
    while (true) {
      var at = big.indexOf(longest, from);
      if (at < 0) break;
      var i = bsearch(starts, at);
      var line = normed[i], ok = true;
      if (!single) {
        for (var k = 0; k < words.length; k++) if (line.indexOf(words[k]) < 0) { ok = false; break; }
      }
      if (ok) {
        if (!detail || out.length < detail) {
          var first = single ? at - starts[i] : line.indexOf(words[0]);
          out.push({ i: i, at: first, time: this.wordTime(i, first) });
        } else {
          out.push({ i: i });
        }
      }
      from = starts[i] + line.length + 1;  // on to the next line
    }
    return out;
  };
  // The start of the word at character `at` of line i (word marks: [offset, time, ...]).
  LineSearch.prototype.wordTime = function (i, at) {
    var line = this.lines[i], marks = line[3] || [], t = line[0];
    for (var k = 0; k + 1 < marks.length; k += 2) {
      if (marks[k] <= at) t = marks[k + 1]; else break;
    }
    return t;
  };

  // Search over the transcript's lines and the slides' text ([start, text] each):
  // hits in time order, a slide's marked as such.
  function SearchBox(input, status, list, lines, slides, onPick) {
    var index = null, slideIndex = null, hits = [], lastQuery = '';
    var MAX = 200;
    function find(words) {
      var found = index.find(words, 0).map(function (h) { h.text = lines[h.i][2]; return h; });
      slideIndex.find(words, 0).forEach(function (h) {
        found.push({ slide: true, at: h.at, time: slides[h.i][0], text: slides[h.i][1] });
      });
      // a slide comes before what is said while it is shown
      return found.sort(function (a, b) { return (a.time - b.time) || ((b.slide ? 1 : 0) - (a.slide ? 1 : 0)); });
    }
    function run() {
      var q = input.value.trim();
      if (q === lastQuery) return;
      lastQuery = q;
      list.textContent = '';
      hits = [];
      if (!q) { status.textContent = ''; return; }
      if (!index) {
        index = new LineSearch(lines);
        slideIndex = new LineSearch(slides.map(function (s) { return [s[0], 0, s[1], []]; }));
      }
      var words = terms(q), near = '';
      hits = find(words);
      var loose = hits.length ? null : loosened(words);
      if (loose) {
        hits = find(loose);
        if (hits.length) { words = loose; near = ' for \u201c' + loose.join(' ') + '\u2026\u201d (nothing for \u201c' + q + '\u201d)'; }
      }
      if (!hits.length) { status.textContent = 'No matches for \u201c' + q + '\u201d.'; return; }
      var onSlides = hits.filter(function (h) { return h.slide; }).length;
      status.textContent = hits.length + (hits.length === 1 ? ' match' : ' matches') +
        (onSlides ? ' (' + onSlides + ' on slides)' : '') + near +
        (hits.length > MAX ? ', the first ' + MAX + ' are listed' : '') + '. Enter plays the first.';
      var frag = document.createDocumentFragment();
      hits.slice(0, MAX).forEach(function (h, n) {
        var li = document.createElement('li');
        var b = el('button', 'hit' + (h.slide ? ' hit--slide' : ''));
        b.type = 'button';
        b.dataset.n = n;
        b.appendChild(el('span', 'time', fmt(h.time)));
        if (h.slide) b.appendChild(el('span', 'hit__kind', 'Slide'));
        var text = el('span', 'hit__text');
        text.appendChild(highlighted(snippet(h.text, h.at, 140), words));
        b.appendChild(text);
        li.appendChild(b);
        frag.appendChild(li);
      });
      list.appendChild(frag);
    }
    var later = debounce(run, 120);
    input.addEventListener('input', later);
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') {
        e.preventDefault();
        run();
        if (hits.length) onPick(hits[0]);
      } else if (e.key === 'Escape' && input.value) {
        e.preventDefault();
        input.value = '';
        run();
      }
    });
    if (input.form) input.form.addEventListener('submit', function (e) { e.preventDefault(); });
    list.addEventListener('click', function (e) {
      var b = e.target.closest && e.target.closest('button.hit');
      if (b) onPick(hits[+b.dataset.n]);
    });
    this.search = function (q) { input.value = q; lastQuery = null; run(); return hits.length; };
  }

  // ------------------------------------------------------------------ session and chapter pages

  function parseHash() {
    var out = {};
    var h = window.location.hash.replace(/^#/, '');
    h.split('&').forEach(function (part) {
      var kv = part.split('=');
      if (kv.length === 2) {
        try { out[kv[0]] = decodeURIComponent(kv[1].replace(/\+/g, ' ')); } catch (e) { /* ignore */ }
      }
    });
    return out;
  }

  function initPlayerPage() {
    var isChapter = DATA.page === 'chapter';
    var slug = DATA.slug || '';
    var chapters = DATA.chapters || [];
    var lines = DATA.lines || [];
    var media = document.getElementById('player');
    var player = new Player(media, isChapter ? DATA.offset : 0);
    var follow = document.getElementById('follow');
    var transcriptBox = document.getElementById('transcript');
    var here = isChapter ? chapters.filter(function (c) { return c.index === DATA.chapter; })[0] : null;
    lmsRestore(slug, chapters);

    var track = addCaptions(media, DATA.cues, DATA.lang || 'en', player.offset);
    var captions = new CaptionsToggle(document.getElementById('captions-toggle'), track);
    var speed = new SpeedControl(document.getElementById('speed'), media, document.getElementById('speed-status'));
    new MomentLink(document.getElementById('copy-moment'), document.getElementById('copy-moment-status'), player);

    var transcript = transcriptBox ? new Transcript(transcriptBox, lines, chapters, player, follow, !isChapter) : null;

    var search = null;
    var input = document.getElementById('search');
    if (input) {
      search = new SearchBox(input, document.getElementById('search-status'), document.getElementById('search-hits'), lines,
        DATA.slides || [],
        function (hit) {
          if (hit.slide) {
            player.seek(hit.time, true);
            if (transcript) transcript.update(player.time());
            return;
          }
          player.seek(Math.max(lines[hit.i][0], hit.time - 0.3), true);
          if (transcript) { transcript.update(player.time()); transcript.show(hit.i, true); transcript.setTabbable(hit.i); }
        });
    }

    // Seeking buttons: chapters, questions, answers, slides.
    document.addEventListener('click', function (e) {
      var b = e.target.closest && e.target.closest('[data-seek]');
      if (!b) return;
      player.seek(parseFloat(b.getAttribute('data-seek')), true);
    });

    // --- chapters and progress
    var chapterStarts = chapters.map(function (c) { return c.start; });
    var items = {};
    Array.prototype.forEach.call(document.querySelectorAll('li.chapter[data-chapter]'), function (li) {
      items[li.getAttribute('data-chapter')] = li;
    });
    var sessionBox = document.querySelector('.intro [data-progress], .toolbar [data-progress]');
    function paintChapter(ch) {
      var li = items[ch.index];
      if (!li) return;
      var p = getProgress(slug, ch.index);
      var fill = li.querySelector('.chapter__bar .progress__fill');
      if (fill) fill.style.width = Math.round(chapterFraction(p, ch) * 100) + '%';
      var done = li.querySelector('.chapter__done');
      if (done) done.hidden = !p.done;
      li.classList.toggle('chapter--done', p.done);
    }
    function paintSession() {
      if (isChapter && here) {
        var p = getProgress(slug, here.index);
        var f = chapterFraction(p, here);
        showProgress(sessionBox, f, p.done ? 'Done' : (f > 0 ? Math.round(f * 100) + '% watched' : 'Not started'), p.done);
        var mark = document.getElementById('mark-done');
        if (mark) {
          // The name stays "Mark as done" (a toggle button says its state with
          // aria-pressed); the visible text says the state to everyone else.
          mark.setAttribute('aria-pressed', p.done ? 'true' : 'false');
          mark.textContent = p.done ? '\u2713 Done' : 'Mark as done';
          mark.title = p.done ? 'Done. Press again to mark it as not done.' : '';
        }
      } else {
        var sp = sessionProgress(slug, chapters);
        showProgress(sessionBox, sp.fraction, describe(sp), sp.count && sp.done === sp.count);
      }
    }
    chapters.forEach(paintChapter);
    paintSession();

    var markDone = document.getElementById('mark-done');
    if (markDone && here) {
      markDone.addEventListener('click', function () {
        var p = getProgress(slug, here.index);
        p.done = !p.done;
        setProgress(slug, here.index, p);
        paintSession();
      });
    }

    var currentChapter = -1;
    var nowPlaying = document.getElementById('now-playing');
    function chapterAt(t) {
      var i = bsearch(chapterStarts, t + 0.05);
      // Past a chapter's end is a break between chapters, or after the talk: no
      // chapter is current (chapters otherwise end where the next one starts).
      if (i >= 0 && t >= chapters[i].end + 0.05) return -1;
      return i;
    }
    function updateChapter(t) {
      if (isChapter) return;
      var i = chapterAt(t);
      if (i === currentChapter) return;
      if (currentChapter >= 0 && items[chapters[currentChapter].index]) {
        var old = items[chapters[currentChapter].index];
        old.classList.remove('chapter--current');
        old.querySelector('.chapter__seek').removeAttribute('aria-current');
      }
      currentChapter = i;
      if (nowPlaying) nowPlaying.textContent = '';
      if (i < 0) return;
      var li = items[chapters[i].index];
      if (li) {
        li.classList.add('chapter--current');
        li.querySelector('.chapter__seek').setAttribute('aria-current', 'true');
        var list = li.parentNode;
        if (list && list.scrollHeight > list.clientHeight + 4) {
          if (li.offsetTop < list.scrollTop || li.offsetTop + li.offsetHeight > list.scrollTop + list.clientHeight) {
            list.scrollTop = Math.max(0, li.offsetTop - 8);
          }
        }
      }
      if (nowPlaying) {
        nowPlaying.appendChild(document.createTextNode('Chapter ' + chapters[i].index + ' of ' + chapters.length + ': '));
        nowPlaying.appendChild(el('strong', null, chapters[i].title));
      }
    }

    // Watching: how far into each chapter playback has reached (not seeking).
    var lastSave = 0;
    function recordWatching(t) {
      if (!media || media.paused || media.seeking) return;
      var ch = isChapter ? here : chapters[chapterAt(t)];
      if (!ch) return;
      var p = getProgress(slug, ch.index);
      var into = Math.min(ch.end - ch.start, t - ch.start);
      var changed = false;
      if (into > p.watched + 0.9) { p.watched = into; changed = true; }
      // Nearly all of it watched counts as done (the last seconds are often a goodbye).
      if (!p.done && p.watched >= 0.95 * (ch.end - ch.start)) { p.done = true; changed = true; }
      var now = Date.now();
      if (changed && (now - lastSave > 1500 || p.done)) {
        setProgress(slug, ch.index, p);
        lastSave = now;
        paintChapter(ch);
        paintSession();
      }
      if (!isChapter && now - lastSave > 1500) {
        store.set(positionKey(slug), Math.round(t));
        lmsSend();
      }
    }

    // A break between two chapters (a pause of minutes that recast left out of
    // both: coffee, an exercise) is skipped while the recording plays on.
    var BREAK_SKIP = 10;
    function skipBreak(t) {
      if (isChapter || !media || media.paused || media.seeking) return false;
      var i = bsearch(chapterStarts, t + 0.05);
      if (i < 0 || i >= chapters.length - 1 || t < chapters[i].end + 0.05) return false;
      var next = chapters[i + 1];
      if (next.start - chapters[i].end < BREAK_SKIP || t >= next.start) return false;
      player.seek(next.start, true);
      updateChapter(next.start);
      if (nowPlaying) {
        nowPlaying.insertBefore(document.createTextNode('Skipped a break of ' + fmt(next.start - chapters[i].end) + '. '),
                                nowPlaying.firstChild);
      }
      return true;
    }

    if (media) {
      media.addEventListener('timeupdate', function () {
        var t = player.time();
        if (skipBreak(t)) return;
        if (transcript) transcript.update(t);
        updateChapter(t);
        recordWatching(t);
      });
      media.addEventListener('seeked', function () {
        var t = player.time();
        if (transcript) transcript.update(t);
        updateChapter(t);
      });
      media.addEventListener('pause', function () {
        if (!isChapter && player.time() > 1) {
          store.set(positionKey(slug), Math.round(player.time()));
          lmsSend();
        }
      });
      media.addEventListener('ended', function () {
        if (isChapter && here) {
          var p = getProgress(slug, here.index);
          p.done = true;
          p.watched = here.end - here.start;
          setProgress(slug, here.index, p);
          paintSession();
        }
      });
    }

    function goChapter(step) {
      if (isChapter) {
        var link = document.querySelector(step > 0 ? '.pager a[rel="next"]' : '.pager a[rel="prev"]');
        if (link) window.location.href = link.href;
        return;
      }
      if (!chapters.length) return;
      var t = player.time(), i = bsearch(chapterStarts, t + 0.05);
      var to;
      if (step > 0) to = i + 1;
      else to = (i >= 0 && t - chapters[i].start > 3) ? i : i - 1;
      to = Math.max(0, Math.min(chapters.length - 1, to));
      player.seek(chapters[to].start, media && !media.paused);
      if (media && media.readyState >= 1) updateChapter(chapters[to].start);
    }
    var prevBtn = document.getElementById('prev-chapter'), nextBtn = document.getElementById('next-chapter');
    if (prevBtn) prevBtn.addEventListener('click', function () { goChapter(-1); });
    if (nextBtn) nextBtn.addEventListener('click', function () { goChapter(1); });
    if (!media) {
      [prevBtn, nextBtn].forEach(function (b) { if (b) b.disabled = true; });
    }

    // Resume where the learner left off (a button: never autoplay).
    var resume = document.getElementById('resume');
    var hash = parseHash();
    if (resume && media && !hash.t) {
      var pos = +store.get(positionKey(slug)) || 0;
      if (pos > 10 && pos < (DATA.duration || Infinity) - 10) {
        resume.hidden = false;
        resume.textContent = 'Resume at ' + fmt(pos);
        resume.addEventListener('click', function () { player.seek(pos, true); resume.hidden = true; });
      }
    }

    // Links like index.html#t=123.4 (library search) and #q=word.
    function applyHash() {
      var h = parseHash();
      if (h.q && search) search.search(h.q);
      if (h.t !== undefined && isFinite(parseFloat(h.t))) {
        var t = parseFloat(h.t);
        player.seek(t, false);
        if (transcript) {
          var i = bsearch(transcript.starts, t + 0.05);
          if (i >= 0) { transcript.update(t); transcript.show(i, true); }
        }
        updateChapter(t);
        if (resume) resume.hidden = true;
      }
    }
    applyHash();
    window.addEventListener('hashchange', applyHash);

    // Keyboard shortcuts.
    document.addEventListener('keydown', function (e) {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTyping(e.target)) return;
      var tag = e.target && e.target.tagName;
      var key = e.key;
      if (key === '/' && input) { e.preventDefault(); input.focus(); input.select(); return; }
      if (key === 'k' || key === 'K') { e.preventDefault(); player.toggle(); return; }
      if (key === ' ' && !/^(BUTTON|A|VIDEO|AUDIO|SUMMARY)$/.test(tag)) { e.preventDefault(); player.toggle(); return; }
      if (key === 'j' || key === 'J') { player.seek(player.time() - 10, false); return; }
      if (key === 'l' || key === 'L') { player.seek(player.time() + 10, false); return; }
      if (key === 'n' || key === 'N' || (e.shiftKey && key === 'ArrowRight')) { e.preventDefault(); goChapter(1); return; }
      if (key === 'p' || key === 'P' || (e.shiftKey && key === 'ArrowLeft')) { e.preventDefault(); goChapter(-1); return; }
      if ((key === 'c' || key === 'C') && track) { captions.toggle(); return; }
      if ((key === '>' || key === '<') && media) { e.preventDefault(); speed.step(key === '>' ? 1 : -1); return; }
    });

    window.RecastPage = { player: player, transcript: transcript, search: search, captions: captions, speed: speed };
  }

  // ------------------------------------------------------------------ library

  function initLibrary() {
    var sessions = DATA.sessions || [];
    var bySlug = {};
    sessions.forEach(function (s) { bySlug[s.slug] = s; });

    // Progress on each card.
    sessions.forEach(function (s) {
      var card = document.querySelector('.session-card[data-slug="' + (window.CSS && CSS.escape ? CSS.escape(s.slug) : s.slug) + '"]');
      if (!card) return;
      var sp = sessionProgress(s.slug, s.chapters || []);
      if (!sp.started && !store.get(positionKey(s.slug))) return;
      showProgress(card.querySelector('[data-progress]'), sp.fraction, describe(sp), sp.count && sp.done === sp.count);
      var cont = card.querySelector('.session-card__continue');
      if (!cont) return;
      var pos = +store.get(positionKey(s.slug)) || 0;
      if (pos > 10) {
        cont.href = s.href + '#t=' + pos;
        cont.firstChild.textContent = 'Continue at ' + fmt(pos);
      } else if (sp.next && sp.next.page) {
        cont.href = sp.next.page;
        cont.firstChild.textContent = 'Continue with chapter ' + sp.next.index;
      } else {
        cont.firstChild.textContent = 'Watch again';
      }
      cont.hidden = false;
    });

    // Course filter.
    var filter = document.getElementById('course-filter');
    var course = '';
    if (filter) {
      filter.addEventListener('change', function () {
        course = filter.value;
        Array.prototype.forEach.call(document.querySelectorAll('#library-sessions .course'), function (sec) {
          sec.hidden = !!course && sec.getAttribute('data-course') !== course;
        });
        if (input && input.value.trim()) { last = null; run(); }
      });
    }

    // Search across sessions: each session's search.js pushes its index onto
    // window.RECAST_SEARCH. They load on first use (or when the page is idle) so
    // the library shows at once even with hundreds of sessions.
    var input = document.getElementById('library-search');
    var status = document.getElementById('library-status');
    var results = document.getElementById('library-results');
    var list = document.getElementById('library-hits');
    var grid = document.getElementById('library-sessions');
    var loading = null, indexes = null, last = null;

    function load() {
      if (loading) return loading;
      window.RECAST_SEARCH = window.RECAST_SEARCH || [];
      var wanted = sessions.filter(function (s) { return s.search; });
      loading = new Promise(function (resolve) {
        var left = wanted.length;
        if (!left) { resolve(); return; }
        wanted.forEach(function (s) {
          var script = document.createElement('script');
          script.src = s.search;
          script.async = false;
          script.onload = script.onerror = function () { if (--left === 0) resolve(); };
          document.head.appendChild(script);
        });
      }).then(function () {
        indexes = [];
        (window.RECAST_SEARCH || []).forEach(function (idx) {
          var s = bySlug[idx.slug];
          if (!s || s._indexed) return;
          s._indexed = true;
          indexes.push({
            session: s,
            idx: idx,
            meta: norm([idx.title, idx.summary, (idx.keywords || []).join(' ')].join('\n')),
            title: norm(idx.title),
            chapters: (idx.chapters || []).map(function (c) { return norm(c[1]); }),
            slides: (idx.slides || []).map(function (sl) { return norm(sl[1]); }),
            lines: null  // built on first query, or below while the page is idle
          });
        });
        if (window.performance && performance.mark) performance.mark('recast-indexes');
        prepare(0);
      });
      return loading;
    }

    function lineIndex(entry) {
      if (!entry.lines) entry.lines = new LineSearch(entry.idx.lines.map(function (l) { return [l[0], 0, l[1], []]; }));
      return entry.lines;
    }
    // Normalise the transcripts a few sessions at a time, so typing stays responsive.
    function prepare(from) {
      var end = Math.min(indexes.length, from + 8);
      for (var k = from; k < end; k++) lineIndex(indexes[k]);
      if (end < indexes.length) setTimeout(function () { prepare(end); }, 0);
    }

    function run() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      list.textContent = '';
      if (!q) { results.hidden = true; grid.hidden = false; status.textContent = ''; return; }
      results.hidden = false;
      grid.hidden = true;
      if (!indexes) {
        status.textContent = 'Loading the search index\u2026';
        load().then(function () { last = null; run(); });
        return;
      }
      var t0 = performance.now();
      function match(words) {
        var found = [];
        indexes.forEach(function (entry) {
          if (course && entry.session.course !== course) return;
          var metaHit = words.every(function (w) { return entry.meta.indexOf(w) >= 0; });
          var titleHit = words.every(function (w) { return entry.title.indexOf(w) >= 0; });
          var chapterHits = [];
          entry.chapters.forEach(function (c, k) {
            if (words.every(function (w) { return c.indexOf(w) >= 0; })) chapterHits.push(entry.idx.chapters[k]);
          });
          var slideHits = [];
          entry.slides.forEach(function (text, k) {
            if (words.every(function (w) { return text.indexOf(w) >= 0; })) slideHits.push({ k: k, at: text.indexOf(words[0]) });
          });
          var lineHits = lineIndex(entry).find(words, 3);
          if (metaHit || chapterHits.length || slideHits.length || lineHits.length) {
            found.push({ entry: entry, title: titleHit, meta: metaHit, chapters: chapterHits, slides: slideHits, lines: lineHits });
          }
        });
        return found;
      }
      var words = terms(q), shown = q;
      var found = match(words);
      var loose = found.length ? null : loosened(words);
      if (loose) {
        var again = match(loose);
        if (again.length) { found = again; words = loose; shown = loose.join(' ') + '\u2026'; }
      }
      found.sort(function (a, b) {
        return (b.title - a.title) || (b.meta - a.meta) || (b.chapters.length - a.chapters.length) ||
          (b.slides.length - a.slides.length) || (b.lines.length - a.lines.length);
      });
      var total = found.reduce(function (n, f) { return n + f.lines.length; }, 0);
      var onSlides = found.reduce(function (n, f) { return n + f.slides.length; }, 0);
      var where = [];
      if (total) where.push(total + (total === 1 ? ' moment' : ' moments') + ' in the transcripts');
      if (onSlides) where.push(onSlides + (onSlides === 1 ? ' slide' : ' slides'));
      status.textContent = found.length
        ? found.length + (found.length === 1 ? ' session' : ' sessions') + ' match \u201c' + shown + '\u201d' +
          (where.length ? ', ' + where.join(' and ') + '.' : '.')
        : 'No session mentions \u201c' + q + '\u201d.';
      var frag = document.createDocumentFragment();
      found.slice(0, 100).forEach(function (f) {
        var s = f.entry.session, idx = f.entry.idx;
        var li = el('li', 'result');
        var h = el('h3', 'result__title');
        var a = el('a');
        a.href = s.href;
        a.appendChild(highlighted(idx.title, words));
        h.appendChild(a);
        li.appendChild(h);
        var bits = [];
        if (s.course) bits.push(s.course);
        if (f.lines.length) bits.push(f.lines.length + (f.lines.length === 1 ? ' moment' : ' moments'));
        if (f.slides.length) bits.push(f.slides.length + (f.slides.length === 1 ? ' slide' : ' slides'));
        if (f.meta && !f.title) bits.push('matches the summary or keywords');
        if (bits.length) li.appendChild(el('p', 'result__meta', bits.join(' \u00b7 ')));
        var hits = el('ul', 'result__hits');
        // one moment of the session: a link that plays from `t`, with its text
        function moment(t, label, text) {
          var item = el('li');
          var link = el('a');
          link.href = s.href + '#t=' + t;
          link.appendChild(el('span', 'time', fmt(t)));
          var span = el('span', 'result__text');
          if (label) span.appendChild(document.createTextNode(label));
          span.appendChild(highlighted(text, words));
          link.appendChild(span);
          item.appendChild(link);
          hits.appendChild(item);
        }
        f.chapters.slice(0, 3).forEach(function (c) { moment(c[0], 'Chapter: ', c[1]); });
        f.slides.slice(0, 2).forEach(function (hit) {
          var slide = idx.slides[hit.k];
          moment(slide[0], 'Slide: ', snippet(slide[1], hit.at, 150));
        });
        f.lines.slice(0, 3).forEach(function (hit) {
          var line = idx.lines[hit.i];
          moment(line[0], '', snippet(line[1], hit.at, 150));
        });
        if (hits.firstChild) li.appendChild(hits);
        if (f.lines.length > 3) {
          var more = el('a', 'result__more', 'All ' + f.lines.length + ' moments in this session');
          more.href = s.href + '#q=' + encodeURIComponent(q);
          li.appendChild(more);
        }
        frag.appendChild(li);
      });
      list.appendChild(frag);
      window.RecastLibrary.lastSearchMs = performance.now() - t0;
    }

    window.RecastLibrary = {
      load: load,
      search: function (q) { input.value = q; last = null; run(); return list.children.length; },
      lastSearchMs: 0
    };
    if (!input) return;
    input.addEventListener('input', debounce(run, 100));
    input.addEventListener('focus', load);
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && input.value) { input.value = ''; run(); }
      if (e.key === 'Enter') { e.preventDefault(); run(); }
    });
    if (input.form) input.form.addEventListener('submit', function (e) { e.preventDefault(); });
    document.addEventListener('keydown', function (e) {
      if (e.key === '/' && !isTyping(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); input.focus(); }
    });
    var idle = window.requestIdleCallback || function (fn) { return setTimeout(fn, 800); };
    idle(function () { load(); });
  }

  // ------------------------------------------------------------------ start

  function start() {
    if (window.performance && performance.mark) performance.mark('recast-start');
    if (DATA.page === 'library') initLibrary();
    else if (DATA.page === 'session' || DATA.page === 'chapter') initPlayerPage();
    document.documentElement.setAttribute('data-ready', '1');
    if (window.performance && performance.mark) performance.mark('recast-ready');
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
