/* The phone simulator: a feature phone in the browser.
 *
 * Texts: POST to the console, which hands them to the line like any gateway and answers
 * with this phone's inbox. Calls: the console posts each step to the voice menu exactly as
 * Twilio would and answers with the TwiML's verbs; this script plays them in order:
 * Say/Play (sound, or the text on screen), Pause, Gather (keys, with barge-in and the
 * timeout), Record (microphone or a tone), Redirect, Dial (nobody answers), Hangup/Reject.
 *
 * Ring once ("nháy máy"): the console posts to the missed-call webhook as Twilio would; the
 * line rejects the call and queues a callback. The page asks every few seconds whether the
 * line is calling this number back (the scheduler places callbacks), rings, and the user
 * answers (the call then runs like any other, as an outbound call) or declines.
 */
(function () {
  "use strict";
  var sim = document.getElementById("sim");
  if (!sim) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var fast = new URLSearchParams(window.location.search).get("fast") === "1";
  var ds = sim.dataset;
  function $(id) { return document.getElementById(id); }
  var phoneInput = $("sim-phone");
  var stateBox = $("call-state");
  var promptList = $("sim-prompts");
  var digitBox = $("sim-digits");
  var callButton = $("sim-call");
  var hangupButton = $("sim-hangup");

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function post(url, data) {
    var options = {method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrf}};
    if (data instanceof FormData) {
      options.body = data;
    } else {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
    return fetch(url, options).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }

  /* ---------------------------------------------------------------- texts */

  function renderInbox(data) {
    var list = $("sim-inbox");
    list.textContent = "";
    data.messages.forEach(function (m) {
      var li = document.createElement("li");
      var time = document.createElement("time");
      time.textContent = m.at;
      var body = document.createElement("p");
      body.textContent = m.body;
      li.appendChild(time);
      li.appendChild(body);
      list.appendChild(li);
    });
    $("sim-pending").textContent = data.pending ? "(+" + data.pending + ")" : "";
  }

  function refreshInbox() {
    var phone = phoneInput.value.trim();
    if (!phone) { return Promise.resolve(); }
    return fetch(ds.inboxUrl + "?phone=" + encodeURIComponent(phone), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { renderInbox(data); } })
      .catch(function () {});
  }

  function deliver() {
    return post(ds.deliverUrl, {phone: phoneInput.value.trim()}).then(renderInbox).catch(function () {});
  }

  $("sim-sms-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("sim-text");
    var body = text.value;
    if (!body.trim()) { return; }
    $("sim-send").disabled = true;
    post(ds.smsUrl, {phone: phoneInput.value.trim(), body: body})
      .then(function (data) { text.value = ""; renderInbox(data); })
      .catch(function (e) { showLine(ds.tError + " (" + e.message + ")"); })
      .finally(function () { $("sim-send").disabled = false; });
  });
  phoneInput.addEventListener("change", refreshInbox);
  setInterval(refreshInbox, 4000);
  refreshInbox();

  /* ---------------------------------------------------------------- calls */

  var call = null;          // {sid, phone, started, gen, direction}
  var generation = 0;
  var playing = null;       // {stop()} of the prompt playing now
  var keyHandler = null;    // where a key press goes (gather, record)

  function setState(state, text) {
    stateBox.dataset.state = state;
    stateBox.textContent = text || "";
  }

  function showLine(text, key, kind) {
    var li = document.createElement("li");
    if (key) { li.dataset.key = key; }
    if (kind) { li.className = kind; }
    li.textContent = text;
    promptList.appendChild(li);
    promptList.scrollTop = promptList.scrollHeight;
    return li;
  }

  function stopPlaying() {
    if (playing) { playing.stop(); playing = null; }
  }

  function speak(verb) {
    var text = verb.text || (verb.key ? "[" + verb.key + "]" : "");
    showLine(text || "♪", verb.key, "prompt");
    return new Promise(function (resolve) {
      var done = false;
      var audio = null;
      var timer = null;
      function finish() {
        if (done) { return; }
        done = true;
        if (timer) { clearTimeout(timer); }
        if (audio) { audio.pause(); }
        playing = null;
        resolve();
      }
      playing = {stop: finish};
      if (verb.url && $("sim-sound").checked && !fast) {
        audio = new Audio(verb.url);
        audio.addEventListener("ended", finish);
        audio.addEventListener("error", function () { timer = setTimeout(finish, readingTime(text)); });
        audio.play().catch(function () { timer = setTimeout(finish, readingTime(text)); });
      } else {
        timer = setTimeout(finish, readingTime(text));
      }
    });
  }

  function readingTime(text) {
    if (fast) { return 60; }
    return Math.min(6000, 400 + 45 * (text || "").length);
  }

  function beep() {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.25);
    } catch (e) { /* no sound device */ }
  }

  function gather(verb, gen) {
    return new Promise(function (resolve) {
      var digits = "";
      var done = false;
      var timer = null;
      digitBox.textContent = "";
      setState("gather", ds.tKeys);
      function finish(result) {
        if (done) { return; }
        done = true;
        keyHandler = null;
        if (timer) { clearTimeout(timer); }
        resolve(result);
      }
      function arm() {
        if (timer) { clearTimeout(timer); }
        timer = setTimeout(function () {
          finish(digits ? {digits: digits, key: ""} : null);
        }, (verb.timeout || 5) * 1000);
      }
      keyHandler = function (key) {
        stopPlaying();
        if (verb.finishOnKey && verb.finishOnKey.indexOf(key) >= 0) {
          finish({digits: digits, key: key});
          return;
        }
        digits += key;
        digitBox.textContent = digits;
        if (verb.numDigits && digits.length >= verb.numDigits) {
          finish({digits: digits, key: ""});
        } else {
          arm();
        }
      };
      (async function () {
        for (var i = 0; i < verb.children.length; i++) {
          if (done || !call || call.gen !== gen) { return; }
          await play(verb.children[i]);
        }
        if (!done) { arm(); }
      })();
    });
  }

  function record(verb) {
    return new Promise(function (resolve) {
      var started = Date.now();
      var recorder = null;
      var stream = null;
      var chunks = [];
      var done = false;
      var timer = null;
      if (verb.playBeep) { beep(); }
      setState("record", ds.tRecording);
      function finish(key) {
        if (done) { return; }
        done = true;
        keyHandler = null;
        if (timer) { clearTimeout(timer); }
        var seconds = Math.max(1, Math.round((Date.now() - started) / 1000));
        var result = {kind: "record", url: verb.action, status_callback: verb.statusCallback,
                      digits: key, duration: seconds};
        if (!recorder) { resolve(result); return; }
        recorder.addEventListener("stop", function () {
          result.blob = new Blob(chunks, {type: recorder.mimeType || "audio/webm"});
          stream.getTracks().forEach(function (t) { t.stop(); });
          resolve(result);
        });
        recorder.stop();
      }
      keyHandler = function (key) {
        if ((verb.finishOnKey || "").indexOf(key) >= 0) { finish(key); }
      };
      timer = setTimeout(function () { finish(""); }, (verb.maxLength || 180) * 1000);
      if ($("sim-mic").checked && navigator.mediaDevices && window.MediaRecorder) {
        navigator.mediaDevices.getUserMedia({audio: true}).then(function (s) {
          if (done) { s.getTracks().forEach(function (t) { t.stop(); }); return; }
          stream = s;
          recorder = new MediaRecorder(s);
          recorder.addEventListener("dataavailable", function (e) { chunks.push(e.data); });
          recorder.start();
        }).catch(function () { recorder = null; });
      }
    });
  }

  async function play(verb) {
    if (verb.verb === "say" || verb.verb === "play") {
      await speak(verb);
    } else if (verb.verb === "pause") {
      await sleep(fast ? 50 : (verb.length || 1) * 1000);
    }
  }

  /* Plays one TwiML answer; returns when the call moved on to the next request or ended. */
  async function run(answer) {
    if (!call) { return; }
    var gen = call.gen;
    if (answer.status !== 200) {
      showLine(ds.tError + " (" + answer.status + ")", null, "error");
      return end(false);
    }
    var verbs = answer.verbs || [];
    for (var i = 0; i < verbs.length; i++) {
      if (!call || call.gen !== gen) { return; }
      var v = verbs[i];
      setState("playing", "");
      if (v.verb === "say" || v.verb === "play" || v.verb === "pause") {
        await play(v);
      } else if (v.verb === "gather") {
        var got = await gather(v, gen);
        if (!call || call.gen !== gen) { return; }
        if (got) {
          return step({kind: "gather", url: v.action, digits: got.digits, finished_on_key: got.key});
        }
      } else if (v.verb === "record") {
        var rec = await record(v);
        if (!call || call.gen !== gen) { return; }
        return step(rec);
      } else if (v.verb === "redirect") {
        return step({kind: "redirect", url: v.url});
      } else if (v.verb === "dial") {
        setState("dialing", ds.tDialing + " " + (v.numbers || []).join(", "));
        showLine(ds.tDialing, null, "dial");
        await sleep(fast ? 100 : 3000);
        if (!call || call.gen !== gen) { return; }
        if (v.action) {
          return step({kind: "dial", url: v.action, dial_status: "no-answer"});
        }
      } else if (v.verb === "hangup" || v.verb === "reject") {
        return end(true);
      } else if (v.text) {
        showLine(v.text, null, "other");
      }
    }
    return end(true);
  }

  async function step(data) {
    if (!call) { return; }
    data.call_sid = call.sid;
    data.phone = call.phone;
    if (call.direction) { data.direction = call.direction; }
    setState("waiting", "…");
    var payload = data;
    if (data.blob) {
      payload = new FormData();
      Object.keys(data).forEach(function (k) {
        if (k !== "blob" && data[k] !== null && data[k] !== undefined) { payload.append(k, data[k]); }
      });
      payload.append("recording", data.blob, "recording.webm");
    }
    try {
      var answer = await post(ds.stepUrl, payload);
      return run(answer);
    } catch (e) {
      showLine(ds.tError + " (" + e.message + ")", null, "error");
      return end(false);
    }
  }

  async function start() {
    var phone = phoneInput.value.trim();
    if (!phone || call) { return; }
    generation += 1;
    call = {sid: null, phone: phone, started: Date.now(), gen: generation};
    promptList.textContent = "";
    digitBox.textContent = "";
    callButton.disabled = true;
    hangupButton.disabled = false;
    if (ringOnceButton) { ringOnceButton.disabled = true; }
    setState("ringing", ds.tCalling);
    try {
      var answer = await post(ds.callUrl, {phone: phone});
      call.sid = answer.call_sid;
      await run(answer);
    } catch (e) {
      showLine(ds.tError + " (" + e.message + ")", null, "error");
      end(false);
    }
  }

  function end(report) {
    var ended = call;
    call = null;
    keyHandler = null;
    stopPlaying();
    callButton.disabled = false;
    hangupButton.disabled = true;
    if (ringOnceButton) { ringOnceButton.disabled = false; }
    setState("ended", ds.tEnded);
    if (report && ended && ended.sid) {
      var seconds = Math.round((Date.now() - ended.started) / 1000);
      post(ds.stepUrl, {kind: "hangup", call_sid: ended.sid, phone: ended.phone, duration: seconds,
                        direction: ended.direction || "inbound"})
        .catch(function () {});
    }
    deliver();
  }

  function press(key) {
    var button = document.querySelector('.key[data-key="' + key + '"]');
    if (button) {
      button.classList.add("down");
      setTimeout(function () { button.classList.remove("down"); }, 120);
    }
    if (keyHandler) { keyHandler(key); }
  }

  /* ------------------------------------------- ring once, and the line calls back */

  var ringOnceButton = $("sim-ring-once");
  var incoming = $("sim-incoming");
  var ringing = null;       // the callback ringing this phone now: {callback_id, call_sid}

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function showRinging(next) {
    ringing = next;
    incoming.hidden = !next;
    if (next) {
      setState("incoming", "");
    } else if (stateBox.dataset.state === "incoming") {
      setState("idle", "");
    }
  }

  function pollRinging() {
    var phone = phoneInput.value.trim();
    if (!phone || call) { return Promise.resolve(); }
    return fetch(ds.ringingUrl + "?phone=" + encodeURIComponent(phone), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (call || !data) { return; }
        showRinging(data.calls.length ? data.calls[0] : null);
      })
      .catch(function () {});
  }

  async function ringOnce() {
    var phone = phoneInput.value.trim();
    if (!phone || call) { return; }
    ringOnceButton.disabled = true;
    callButton.disabled = true;
    promptList.textContent = "";
    digitBox.textContent = "";
    setState("ringing", ds.tRingingOnce);
    try {
      var answer = await post(ds.missedUrl, {phone: phone});
      var rejected = (answer.verbs || []).some(function (v) { return v.verb === "reject"; });
      if (answer.status !== 200 || !rejected) {
        showLine(ds.tError + " (" + answer.status + ")", null, "error");
        setState("ended", ds.tEnded);
        return;
      }
      setState("rejected", ds.tRejected);
      showLine(ds.tRejected, null, "rejected");
      if (answer.callback) {
        showLine(fill(ds.tCallbackQueued, {time: answer.callback.due}), null, "callback");
      }
      pollRinging();
    } catch (e) {
      showLine(ds.tError + " (" + e.message + ")", null, "error");
      setState("ended", ds.tEnded);
    } finally {
      ringOnceButton.disabled = false;
      callButton.disabled = !!call;
    }
  }

  async function answerCallback() {
    var phone = phoneInput.value.trim();
    var picked = ringing;
    if (!picked || call || !phone) { return; }
    showRinging(null);
    generation += 1;
    call = {sid: picked.call_sid, phone: phone, started: Date.now(), gen: generation,
            direction: "outbound"};
    promptList.textContent = "";
    digitBox.textContent = "";
    callButton.disabled = true;
    hangupButton.disabled = false;
    ringOnceButton.disabled = true;
    setState("waiting", "…");
    try {
      var answer = await post(ds.answerUrl, {phone: phone, callback_id: picked.callback_id});
      call.sid = answer.call_sid;
      await run(answer);
    } catch (e) {
      showLine(ds.tError + " (" + e.message + ")", null, "error");
      end(false);
    }
  }

  function declineCallback() {
    var phone = phoneInput.value.trim();
    var picked = ringing;
    if (!picked || call || !phone) { return; }
    showRinging(null);
    post(ds.declineUrl, {phone: phone, callback_id: picked.callback_id})
      .then(function (data) {
        setState("declined", ds.tDeclined);
        showLine(ds.tDeclined + (data.callback ? " (" + data.callback.due + ")" : ""), null,
                 "declined");
      })
      .catch(function (e) { showLine(ds.tError + " (" + e.message + ")", null, "error"); });
  }

  if (ringOnceButton && incoming && ds.ringingUrl) {
    ringOnceButton.addEventListener("click", ringOnce);
    $("sim-answer").addEventListener("click", answerCallback);
    $("sim-decline").addEventListener("click", declineCallback);
    // Typing a number, then clicking "Pick up" fires "change" (the field loses focus) just
    // before the click: hiding the ringing box then swallowed that first click. Ask the
    // line instead; the box goes only if the new number is not being rung.
    phoneInput.addEventListener("change", pollRinging);
    setInterval(pollRinging, fast ? 1000 : 3000);
    pollRinging();
  }

  callButton.addEventListener("click", start);
  hangupButton.addEventListener("click", function () { end(true); });
  document.querySelectorAll("#keypad .key").forEach(function (b) {
    b.addEventListener("click", function () { press(b.dataset.key); });
  });
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") { return; }
    if ("0123456789*#".indexOf(ev.key) >= 0 && ev.key.length === 1) { press(ev.key); }
  });
})();
