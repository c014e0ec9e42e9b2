/* recast SCORM 1.2 launch page: finds the LMS's API, opens one connection for the
 * whole launch and lends it to the session pages in the frame as window.recastLMS.
 * See recast/scorm.py for why the pages run in a frame.
 */
(function () {
  'use strict';

  // The ADL search: the API object lives in a parent frame of the LMS's player, or
  // in the window that opened a pop-up player (the opener of the pop-up's top
  // window: this page may itself be framed in the pop-up). A frame of another
  // origin on the way up is stepped over.
  function search(win) {
    for (var hops = 0; win && hops < 12; hops++) {
      try { if (win.API) return win.API; } catch (e) { /* another origin: look further up */ }
      var up = null;
      try { up = win.parent; } catch (e) { up = null; }
      if (!up || up === win) break;
      win = up;
    }
    return null;
  }
  var api = null;
  try { api = window.parent !== window ? search(window.parent) : null; } catch (e) { api = null; }
  if (!api) { try { api = window.top.opener ? search(window.top.opener) : null; } catch (e) { api = null; } }
  if (!api) { try { api = window.opener ? search(window.opener) : null; } catch (e) { api = null; } }

  function call(name, a, b) {
    try { return String(b === undefined ? api[name](a) : api[name](a, b)); } catch (e) { return ''; }
  }
  var open = !!api && call('LMSInitialize', '') === 'true';
  var finished = false, started = Date.now(), flush = null;
  var status = open ? call('LMSGetValue', 'cmi.core.lesson_status') : '';
  // A preview ("browse") is recorded as browsed; a review of a finished attempt
  // ("review") changes nothing.
  var mode = open ? call('LMSGetValue', 'cmi.core.lesson_mode') : '';
  var recording = open && mode !== 'browse' && mode !== 'review';
  if (open) {
    if (mode === 'browse' && (status === '' || status === 'not attempted')) {
      status = 'browsed';
      call('LMSSetValue', 'cmi.core.lesson_status', status);
    } else if (recording && (status === '' || status === 'not attempted' || status === 'browsed')) {
      status = 'incomplete';
      call('LMSSetValue', 'cmi.core.lesson_status', status);
    }
    // Exit as "suspend" from the start, and always: browsers drop the synchronous
    // requests that many LMSs make while a page closes, so what is said only then
    // may never arrive; and some LMSs discard suspend_data after any other exit,
    // which would lose the learner's progress once they have completed.
    if (recording) call('LMSSetValue', 'cmi.core.exit', 'suspend');
    call('LMSCommit', '');
  }

  function timespan(ms) {  // CMITimespan: HHHH:MM:SS
    var s = Math.max(0, Math.round(ms / 1000)), h = Math.min(9999, Math.floor(s / 3600)), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return (h < 10 ? '0' : '') + h + ':' + (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s;
  }

  window.recastLMS = {
    // false before the LMS answered and after the connection closed
    get connected() { return open && !finished; },
    // What the pages saved last time (cmi.suspend_data), '' when nothing was.
    load: function () { return open && !finished ? call('LMSGetValue', 'cmi.suspend_data') : ''; },
    // The pages' progress, and whether every chapter is done. The LMS's record of a
    // completion stays: un-marking a chapter later does not take it back.
    save: function (data, complete) {
      if (!recording || finished) return false;
      call('LMSSetValue', 'cmi.suspend_data', data);
      if (complete && status !== 'completed' && status !== 'passed') {
        status = 'completed';
        call('LMSSetValue', 'cmi.core.lesson_status', status);
      }
      return call('LMSCommit', '') === 'true';
    },
    // The page in the frame registers a function that saves what it has not sent
    // yet; it runs before the connection closes (the page that replaces it
    // registers its own).
    onFinish: function (fn) { flush = fn; }
  };

  function finish() {
    if (!open || finished) return;
    try { if (flush) flush(); } catch (e) { /* the page is going away */ }
    finished = true;
    call('LMSSetValue', 'cmi.core.session_time', timespan(Date.now() - started));
    call('LMSCommit', '');
    call('LMSFinish', '');
  }
  window.addEventListener('pagehide', finish);
  window.addEventListener('beforeunload', finish);
})();
