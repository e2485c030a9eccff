// The portal's PDF viewer (the macro in templates/_pdf_viewer.html): PDF.js, vendored under
// static/vendor/pdfjs, draws each page on its own <canvas>. The PDFs are served with
// "Content-Security-Policy: default-src 'none'; sandbox", which leaves the browser's own viewer
// blank, so the pages are drawn here instead; nothing in a PDF ever runs as script in our origin.
//
// <div data-pdf-viewer data-pdf-src="…" data-pdfjs="…/pdf.min.mjs" data-pdfjs-worker="…"
//      data-pdfjs-fonts="…/" data-pdfjs-cmaps="…/" data-pdfjs-wasm="…/">, holding a toolbar
// ([data-pdf-action] buttons, [data-pdf-page], [data-pdf-pages], [data-pdf-zoom]) and the
// scrolling frame [data-pdf-frame]. Every page gets its canvas, sized to the page, as soon as the
// document is open; a page is drawn when it comes near the visible part of the frame and its
// pixels are let go again when it is far away.

const ZOOM_STEP = 1.25;
const MIN_SCALE = 0.25;
const MAX_SCALE = 5;
// The first view: the page's width, but no larger than this (a wide frame shows a whole page).
const MAX_AUTO_SCALE = 1.25;
// Space around a page in the frame, in CSS pixels (Bootstrap's my-3 and px-3 on each side).
const PAGE_MARGIN = 16;
// A canvas larger than this many device pixels is drawn at a lower resolution (memory).
const MAX_CANVAS_PIXELS = 16 * 1024 * 1024;

class PdfViewer {
  constructor(root, pdfjs) {
    this.root = root;
    this.pdfjs = pdfjs;
    this.frame = root.querySelector("[data-pdf-frame]");
    this.pageLabel = root.querySelector("[data-pdf-page]");
    this.pagesLabel = root.querySelector("[data-pdf-pages]");
    this.zoomLabel = root.querySelector("[data-pdf-zoom]");
    this.buttons = {};
    root.querySelectorAll("[data-pdf-action]").forEach((button) => {
      this.buttons[button.dataset.pdfAction] = button;
    });
    // Per page: {number, page, width and height at scale 1, canvas, task, drawnAt (a scale)}.
    this.pages = [];
    this.scale = 1;
    this.mode = "auto"; // "auto", "fit" (the width) or "manual" (zoomed in or out)
    this.current = 1;
    this.navigating = false;
  }

  async open() {
    const data = this.root.dataset;
    const task = this.pdfjs.getDocument({
      url: data.pdfSrc,
      standardFontDataUrl: data.pdfjsFonts,
      cMapUrl: data.pdfjsCmaps,
      cMapPacked: true,
      wasmUrl: data.pdfjsWasm,
      // The portal's Content-Security-Policy allows neither eval nor WebAssembly compilation:
      // PDF.js is told so, and uses its JavaScript decoders instead of trying and being refused.
      isEvalSupported: false,
      useWasm: false,
      enableXfa: false,
    });
    const pdf = await task.promise;
    // Every page's size first, so each canvas has its page's shape before anything is drawn.
    const pages = await Promise.all(
      Array.from({ length: pdf.numPages }, (_, index) => pdf.getPage(index + 1)),
    );
    this.pages = pages.map((page, index) => {
      const { width, height } = page.getViewport({ scale: 1 });
      return { number: index + 1, page, width, height, canvas: null, task: null };
    });
    this.scale = this.scaleFor(this.mode);
    this.frame.replaceChildren(...this.pages.map((item) => (item.canvas = this.blank(item))));
    this.pagesLabel.textContent = String(this.pages.length);
    this.root.dataset.pdfPageCount = String(this.pages.length);
    this.wire();
    this.updateToolbar();
    this.root.dataset.pdfState = "open";
  }

  wire() {
    const on = (name, action) => this.buttons[name]?.addEventListener("click", action);
    on("previous", () => this.goTo(this.current - 1));
    on("next", () => this.goTo(this.current + 1));
    on("zoom-in", () => this.zoom(this.scale * ZOOM_STEP, "manual"));
    on("zoom-out", () => this.zoom(this.scale / ZOOM_STEP, "manual"));
    on("fit-width", () => this.zoom(this.scaleFor("fit"), "fit"));
    // Pages near the visible part of the frame are drawn; pages far from it are let go.
    this.near = new IntersectionObserver(
      (entries) => entries.forEach((entry) => entry.isIntersecting && this.draw(this.of(entry))),
      { root: this.frame, rootMargin: "100% 0px" },
    );
    this.far = new IntersectionObserver(
      (entries) => entries.forEach((entry) => entry.isIntersecting || this.release(this.of(entry))),
      { root: this.frame, rootMargin: "400% 0px" },
    );
    this.pages.forEach((item) => this.observe(item.canvas));
    this.frame.addEventListener(
      "scroll",
      () => {
        if (!this.navigating) this.current = this.visiblePage();
        this.updateToolbar();
      },
      { passive: true },
    );
    let resizing = null;
    new ResizeObserver(() => {
      if (this.mode === "manual") return;
      window.clearTimeout(resizing);
      resizing = window.setTimeout(() => this.zoom(this.scaleFor(this.mode), this.mode), 100);
    }).observe(this.frame);
  }

  of(entry) {
    return this.pages[Number(entry.target.dataset.pageNumber) - 1];
  }

  observe(canvas) {
    this.near.observe(canvas);
    this.far.observe(canvas);
  }

  /** The scale at which the widest page fills the frame's width ("fit"), at most 125 % ("auto"). */
  scaleFor(mode) {
    const widest = Math.max(...this.pages.map((item) => item.width));
    const fit = (this.frame.clientWidth - 2 * PAGE_MARGIN) / widest;
    return clamp(mode === "auto" ? Math.min(fit, MAX_AUTO_SCALE) : fit);
  }

  /** A canvas for the page, of its shape at the current scale, with nothing drawn on it yet
   * (transparent: the page's white background shows). */
  blank(item) {
    const canvas = document.createElement("canvas");
    canvas.className = "d-block mx-auto my-3 bg-white shadow-sm";
    canvas.dataset.pageNumber = String(item.number);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `Page ${item.number} of ${this.pages.length}`);
    // A backing store of the page's shape that costs next to nothing until it is drawn on.
    canvas.width = Math.max(1, Math.round(item.width / 4));
    canvas.height = Math.max(1, Math.round(item.height / 4));
    this.size(canvas, item);
    return canvas;
  }

  size(canvas, item) {
    // Set through the CSSOM: the Content-Security-Policy refuses style attributes in HTML.
    canvas.style.width = `${Math.floor(item.width * this.scale)}px`;
    canvas.style.height = `${Math.floor(item.height * this.scale)}px`;
  }

  /** Put ``canvas`` in the place of the page's current one. */
  show(item, canvas) {
    this.near.unobserve(item.canvas);
    this.far.unobserve(item.canvas);
    item.canvas.replaceWith(canvas);
    item.canvas = canvas;
    this.observe(canvas);
  }

  /** Draw the page at the current scale on a new canvas, which then replaces the one shown
   * (until then the page shows what it had: no blank flash while zooming). */
  async draw(item) {
    if (item.drawnAt === this.scale || item.task) return;
    const scale = this.scale;
    const viewport = item.page.getViewport({ scale });
    let ratio = window.devicePixelRatio || 1;
    const pixels = viewport.width * viewport.height * ratio * ratio;
    if (pixels > MAX_CANVAS_PIXELS) ratio *= Math.sqrt(MAX_CANVAS_PIXELS / pixels);
    const canvas = this.blank(item);
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    const task = item.page.render({
      canvas,
      viewport,
      transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0],
    });
    item.task = task;
    try {
      await task.promise;
    } catch (error) {
      if (item.task !== task || error?.name === "RenderingCancelledException") return;
      canvas.dataset.renderError = String(error?.message || error);
      canvas.setAttribute("aria-label", `Page ${item.number} could not be drawn`);
    } finally {
      // A zoom cancels the task and may have started the next one already.
      if (item.task === task) item.task = null;
    }
    if (scale !== this.scale) return;
    if (!canvas.dataset.renderError) canvas.dataset.rendered = "true";
    item.drawnAt = scale;
    this.show(item, canvas);
  }

  /** Let go of the page's pixels; its blank canvas keeps its place and shape. */
  release(item) {
    item.task?.cancel();
    item.task = null;
    if (item.drawnAt === undefined) return;
    item.drawnAt = undefined;
    this.show(item, this.blank(item));
  }

  zoom(scale, mode) {
    scale = clamp(scale);
    this.mode = mode;
    if (Math.abs(scale - this.scale) < 1e-3) return this.updateToolbar();
    const page = this.pages[this.current - 1];
    // The same spot of the current page stays at the top of the frame.
    const within = (this.frame.scrollTop - page.canvas.offsetTop) / this.scale;
    this.scale = scale;
    for (const item of this.pages) {
      item.task?.cancel();
      item.task = null;
      // What it shows is stretched until the page is drawn again at the new scale.
      delete item.canvas.dataset.rendered;
      this.size(item.canvas, item);
    }
    this.scrollTo(page.canvas.offsetTop + within * scale);
    // Pages in view are drawn again at the new scale (the others when they come near again);
    // the observers do not fire for them, as their canvases stay where they were.
    for (const item of this.pages) {
      if (this.inView(item.canvas)) this.draw(item);
      else this.release(item);
    }
    this.updateToolbar();
  }

  inView(canvas) {
    const top = canvas.offsetTop - this.frame.scrollTop;
    const margin = this.frame.clientHeight;
    return top + canvas.offsetHeight > -margin && top < this.frame.clientHeight + margin;
  }

  /** The page that fills most of the frame. */
  visiblePage() {
    const top = this.frame.scrollTop;
    const bottom = top + this.frame.clientHeight;
    let best = this.current;
    let bestShown = -1;
    for (const item of this.pages) {
      const start = item.canvas.offsetTop;
      const end = start + item.canvas.offsetHeight;
      if (end < top) continue;
      if (start > bottom) break;
      const shown = Math.min(end, bottom) - Math.max(start, top);
      if (shown > bestShown) {
        best = item.number;
        bestShown = shown;
      }
    }
    return best;
  }

  goTo(number) {
    if (number < 1 || number > this.pages.length) return;
    this.current = number;
    this.scrollTo(this.pages[number - 1].canvas.offsetTop - PAGE_MARGIN);
    this.updateToolbar();
  }

  scrollTo(top) {
    // The scroll this causes must not move the page counter off the page asked for (the last
    // pages cannot reach the top of the frame): its scroll event comes before the next frame.
    this.navigating = true;
    this.frame.scrollTop = top;
    window.requestAnimationFrame(() =>
      window.requestAnimationFrame(() => {
        this.navigating = false;
      }),
    );
  }

  updateToolbar() {
    this.pageLabel.textContent = String(this.current);
    this.root.dataset.pdfCurrentPage = String(this.current);
    this.zoomLabel.textContent = `${Math.round(this.scale * 100)}%`;
    this.buttons.previous.disabled = this.current <= 1;
    this.buttons.next.disabled = this.current >= this.pages.length;
    this.buttons["zoom-out"].disabled = this.scale <= MIN_SCALE;
    this.buttons["zoom-in"].disabled = this.scale >= MAX_SCALE;
    this.buttons["fit-width"].disabled = false;
  }

  fail(error) {
    this.root.dataset.pdfState = "error";
    const alert = document.createElement("div");
    alert.className = "alert alert-danger m-3";
    alert.setAttribute("role", "alert");
    alert.append(`The PDF could not be shown: ${describe(error)}.`);
    const link = this.root.querySelector("[data-pdf-download]");
    if (link) {
      const download = document.createElement("a");
      download.href = link.getAttribute("href");
      download.className = "alert-link";
      download.textContent = "Download it";
      alert.append(" ", download, " to open it in a PDF reader.");
    }
    this.frame.replaceChildren(alert);
    this.pageLabel.textContent = "–";
    this.pagesLabel.textContent = "–";
  }
}

function clamp(scale) {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
}

/** What went wrong, in words for the person looking at the page. */
function describe(error) {
  const name = error?.name;
  if (name === "ResponseException" || name === "UnexpectedResponseException") {
    const status = error.status;
    if (status === 404) return "it is not there, or you may not see it (404)";
    return status ? `the server answered ${status}` : "the server could not be reached";
  }
  if (name === "InvalidPDFException") return "the file is not a valid PDF";
  if (name === "PasswordException") return "the PDF is protected by a password";
  return String(error?.message || error || "unknown error");
}

async function start() {
  const roots = document.querySelectorAll("[data-pdf-viewer]:not([data-pdf-state])");
  if (roots.length === 0) return;
  roots.forEach((root) => {
    root.dataset.pdfState = "loading";
  });
  let pdfjs;
  try {
    pdfjs = await import(roots[0].dataset.pdfjs);
    pdfjs.GlobalWorkerOptions.workerSrc = roots[0].dataset.pdfjsWorker;
  } catch (error) {
    roots.forEach((root) => new PdfViewer(root, null).fail(error));
    return;
  }
  roots.forEach((root) => {
    const viewer = new PdfViewer(root, pdfjs);
    viewer.open().catch((error) => viewer.fail(error));
  });
}

start();

export { PdfViewer };
