// A list whose items keep their DOM node across updates, matched by key (a pid, a cpu number): the dashboard's
// answer to "every window re-rendered the page". Only nodes whose position changed are moved, and a focused
// node that had to move gets its focus back, so keyboard users stay where they were.

export interface View {
  readonly el: HTMLElement;
}

export class KeyedList<T, V extends View> {
  private readonly views = new Map<string | number, V>();

  constructor(
    private readonly container: HTMLElement,
    private readonly key: (item: T) => string | number,
    private readonly create: (item: T) => V,
    private readonly patch: (view: V, item: T) => void,
  ) {}

  view(key: string | number): V | undefined {
    return this.views.get(key);
  }

  update(items: readonly T[]): void {
    const focused = document.activeElement;
    const keep = new Set(items.map(this.key));
    for (const [k, v] of this.views)
      if (!keep.has(k)) {
        v.el.remove();
        this.views.delete(k);
      }
    let next: ChildNode | null = this.container.firstChild;
    for (const item of items) {
      const k = this.key(item);
      let v = this.views.get(k);
      if (!v) {
        v = this.create(item);
        this.views.set(k, v);
      }
      this.patch(v, item);
      if (v.el === next) next = next.nextSibling;
      else this.container.insertBefore(v.el, next);
    }
    // Moving a node blurs it in Chromium: give the focus back without scrolling.
    if (focused instanceof HTMLElement && focused !== document.activeElement && focused.isConnected)
      focused.focus({ preventScroll: true });
  }
}
