// The kiosk page: renders the state the lane pushes (server-sent events) and sends the
// traveller's inputs back. It holds no decision of its own; it only displays.
"use strict";
(() => {
  const PICTOGRAMS = {
    welcome: "welcome", place_document: "place", reading_document: "reading", reading_chip: "chip",
    look_at_camera: "camera", verifying: "verifying", please_proceed: "proceed",
    please_wait_door: "wait-door", see_officer: "officer", remove_document: "remove",
    out_of_service: "out-of-service", emergency_exit: "emergency", closed: "closed",
  };
  // A picture for each instruction key (several keys share one); screen pictograms are reused.
  const INSTRUCTION_ICONS = {
    look_at_camera: "ins-eye", look_straight_ahead: "ins-eye", one_person_only: "ins-one-person",
    stand_in_the_middle: "ins-centre", come_closer: "ins-closer", step_back: "ins-back",
    keep_head_straight: "ins-head-straight", hold_still: "ins-still", keep_document_still: "ins-still",
    step_into_the_light: "ins-light", step_out_of_direct_light: "ins-light", remove_glasses: "ins-glasses",
    remove_hat: "ins-hat", place_photo_page_down: "pict-place", take_your_document: "pict-remove",
    walk_through_now: "pict-proceed", wait_for_door: "pict-wait-door", try_again: "ins-retry",
  };
  const URGENT_SECONDS = 10;
  const STALE_MS = 12000;     // no message (views or pings) for this long: the link is dead
  const OFFLINE_GRACE_MS = 3000;

  const $ = (id) => document.getElementById(id);
  const texts = {};
  let state = null;
  let deadline = null;        // performance.now() at which the lane's timeout runs out
  let lastMessage = performance.now();
  let brokenSince = null;
  let assistancePending = false;
  let warned = false;
  let lastAnnouncement = "";

  // Until a language is chosen (by a tap or by the document read), the welcome screen goes through
  // every offered language in turn, so a traveller who cannot read the default sees their own.
  const CYCLE_MS = 4000;
  let shownLanguage = null;   // the language on screen while cycling; null: state.language
  let cycleTimer = null;

  // Texts about the document have variants by the kind read ("key@id_card"); without one, or before
  // a document is read, the plain key (which names a passport, or "passport or ID card").
  function lookup(lang, key) {
    const table = texts[lang] || {};
    const kind = state && state.view.document;
    return (kind && table[`${key}@${kind}`]) ?? table[key];
  }

  function t(key, params = {}) {
    const lang = shownLanguage || (state ? state.language : "en");
    let text = lookup(lang, key) ?? lookup("en", key) ?? "";
    for (const [name, value] of Object.entries(params)) text = text.replace(`{${name}}`, String(value));
    return text;
  }

  async function loadTexts(languages) {
    await Promise.all(languages.filter((lang) => !texts[lang]).map(async (lang) => {
      const response = await fetch(`/i18n/${lang}.json`);
      if (response.ok) texts[lang] = await response.json();
    }));
  }

  function post(path, data = {}) {
    return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                         body: JSON.stringify(data) }).then((response) => response.ok);
  }

  function renderLanguages() {
    const nav = $("languages");
    nav.setAttribute("aria-label", t("ui.choose_language"));
    if (nav.childElementCount !== state.languages.length) {
      nav.replaceChildren(...state.languages.map((lang) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "lang";
        button.id = `lang-${lang}`;
        button.lang = lang;
        button.dir = lang === "ar" ? "rtl" : "ltr";
        button.addEventListener("click", () => post("/api/language", { language: lang }));
        return button;
      }));
    }
    for (const button of nav.children) {
      button.textContent = (texts[button.lang] || {}).language_name || button.lang;
      button.setAttribute("aria-pressed", String(button.lang === state.language));
    }
  }

  function renderProgress(view) {
    $("progress").hidden = view.total_steps === 0;
    if (view.total_steps === 0) return;
    $("step-text").textContent = t("ui.step", { step: view.step, total: view.total_steps });
    const bar = $("step-bar");
    bar.setAttribute("aria-valuemax", view.total_steps);
    bar.setAttribute("aria-valuenow", view.step);
    bar.setAttribute("aria-valuetext", $("step-text").textContent);
    bar.replaceChildren(...Array.from({ length: view.total_steps }, (_, i) => {
      const segment = document.createElement("span");
      if (i < view.step) segment.className = "done";
      return segment;
    }));
  }

  function renderAssistance(view) {
    if (view.assistance_called) assistancePending = false;
    $("assistance").textContent = t("ui.assistance");
    $("assistance").hidden = view.screen === "emergency_exit";
    $("assistance-status").textContent = view.assistance_called ? t("ui.assistance_called")
      : assistancePending ? t("ui.assistance_requested") : "";
  }

  function render() {
    const view = state.view;
    const lang = shownLanguage || state.language;
    document.documentElement.lang = lang;
    document.documentElement.dir = shownLanguage ? (shownLanguage === "ar" ? "rtl" : "ltr") : state.dir;
    document.body.dataset.cycling = String(cycleTimer !== null);
    document.body.dataset.screen = view.screen;
    document.title = t(`title.${view.screen}`);
    $("title").textContent = t(`title.${view.screen}`);
    $("body").textContent = t(`body.${view.screen}`);
    $("instruction").hidden = !view.instruction;
    $("instruction-text").textContent = view.instruction ? t(`instruction.${view.instruction}`) : "";
    if (view.instruction) $("instruction-use").setAttribute("href", `#${INSTRUCTION_ICONS[view.instruction]}`);
    $("pictogram-use").setAttribute("href", `#pict-${PICTOGRAMS[view.screen]}`);
    $("more-time").textContent = t("ui.more_time");
    $("offline-text").textContent = t("ui.connection_lost");
    renderLanguages();
    renderProgress(view);
    renderAssistance(view);
    renderTimer();
    announce(view);
    speak(view);
  }

  // Spoken prompts (when the lane has them): the screen, then its instruction, in the language on
  // screen; a new screen cuts the old prompt short.
  const player = new Audio();
  let spoken = "";
  let queue = [];

  function speak(view) {
    if (!state.audio) return;
    const lang = shownLanguage || state.language;
    const key = `${lang}|${view.screen}|${view.instruction}`;
    if (key === spoken) return;
    spoken = key;
    queue = [`/audio/${lang}/screen.${view.screen}.wav`];
    if (view.instruction) queue.push(`/audio/${lang}/instruction.${view.instruction}.wav`);
    document.body.dataset.prompts = queue.join(" ");
    playNext();
  }

  let playing = 0;             // which play() is current: an interrupted one's rejection is ignored

  function playNext() {
    const next = queue.shift();
    if (!next) return;
    const mine = ++playing;
    player.src = next;
    document.body.dataset.speaking = next;
    player.play().then(() => { if (mine === playing) delete document.body.dataset.audioError; },
                       (error) => { if (mine !== playing) return;
                                    document.body.dataset.audioError = error.name; playNext(); });
  }
  player.addEventListener("ended", playNext);

  function announce(view) {
    const parts = [t(`title.${view.screen}`), t(`body.${view.screen}`)];
    if (view.instruction) parts.push(t(`instruction.${view.instruction}`));
    if (view.assistance_called) parts.push(t("ui.assistance_called"));
    const text = parts.join(" ");
    if (text === lastAnnouncement) return;
    lastAnnouncement = text;
    const urgent = view.screen === "emergency_exit";
    $(urgent ? "alert-announcer" : "announcer").textContent = text;
  }

  function restartCycle() {
    clearInterval(cycleTimer);
    cycleTimer = null;
    shownLanguage = null;
    if (state.view.screen !== "welcome" || state.language_chosen || state.languages.length < 2) return;
    cycleTimer = setInterval(() => {
      const current = shownLanguage || state.language;
      shownLanguage = state.languages[(state.languages.indexOf(current) + 1) % state.languages.length];
      render();
    }, CYCLE_MS);
  }

  function renderTimer() {
    const timer = $("timer");
    timer.hidden = deadline === null;
    if (deadline === null) return;
    const seconds = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
    $("seconds-left").textContent = t("ui.seconds_left", { seconds });
    const urgent = seconds <= URGENT_SECONDS;
    timer.classList.toggle("urgent", urgent);
    if (urgent && !warned) {
      warned = true;
      $("alert-announcer").textContent = t("ui.time_running_out");
    }
  }

  async function onView(event) {
    const next = JSON.parse(event.data);
    await loadTexts(next.languages.includes("en") ? next.languages : ["en", ...next.languages]);
    const seconds = next.view.seconds_left;
    deadline = seconds === null ? null : performance.now() + seconds * 1000;
    if (seconds === null || seconds > URGENT_SECONDS) warned = false;
    if (next.view.screen === "welcome") assistancePending = false;
    state = next;
    restartCycle();
    render();
    document.body.dataset.version = event.lastEventId;
    document.body.dataset.ready = "true";
  }

  function watchLink(source) {
    const broken = source.readyState !== EventSource.OPEN || performance.now() - lastMessage > STALE_MS;
    if (!broken) brokenSince = null;
    else if (brokenSince === null) brokenSince = performance.now();
    const offline = brokenSince !== null && performance.now() - brokenSince > OFFLINE_GRACE_MS;
    if (offline && !state) $("offline-text").textContent = t("ui.connection_lost");
    $("offline").hidden = !offline;
  }

  // EventSource retries a dropped connection by itself, but gives up for good after an HTTP error
  // (a 401 or 503 while gate-app restarts): then the page opens a new one, backing off up to 10 s.
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 10000;
  let source = null;
  let retryMs = RETRY_MIN_MS;

  function connect() {
    source = new EventSource("/events");
    let rendering = Promise.resolve();  // one view after the other, in the order they arrived
    source.addEventListener("view", (event) => {
      lastMessage = performance.now();
      rendering = rendering.then(() => onView(event)).catch((error) => console.error(error));
    });
    source.addEventListener("ping", () => { lastMessage = performance.now(); });
    source.addEventListener("open", () => { lastMessage = performance.now(); retryMs = RETRY_MIN_MS; });
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) return;
      setTimeout(connect, retryMs);
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    });
  }

  function start() {
    connect();
    $("more-time").addEventListener("click", () => post("/api/more-time"));
    $("assistance").addEventListener("click", async () => {
      if (await post("/api/assistance") && state && !state.view.assistance_called) {
        assistancePending = true;
        renderAssistance(state.view);
      }
    });
    setInterval(() => { if (state) renderTimer(); watchLink(source); }, 250);
  }

  start();
})();
