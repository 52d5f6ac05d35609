// `hotspot profile --format top`: a header and the hot functions by self share, every name made plain text.
import { plainText } from '../shared/format';
import { hotFunctions, type SymbolizedProfile, stackSamples } from '../shared/profile/model';

const pct = (n: number, of: number) => `${((n / of) * 100).toFixed(1)} %`.padStart(7);

export function header(p: SymbolizedProfile): string {
  const threads = p.threads.length === 1 ? '1 thread' : `${p.threads.length} threads`;
  return plainText(
    `${p.comm} (${p.pid}): ${p.samples} samples in ${(p.durationMs / 1000).toFixed(1)} s at ${p.frequency} Hz, ${threads}`,
  );
}

export function renderTop(p: SymbolizedProfile, rows: number): string {
  const n = stackSamples(p);
  const out = [header(p), ''];
  if (n === 0) {
    out.push('No samples: the process did not run on a CPU while it was profiled.');
    return `${out.join('\n')}\n`;
  }
  out.push(`${'SELF'.padStart(7)}  ${'TOTAL'.padStart(7)}  FUNCTION`);
  for (const h of hotFunctions(p).slice(0, rows)) {
    const f = p.frames[h.frame];
    const where = f.kind === 'native' && f.module ? `  [${f.module}]` : '';
    out.push(`${pct(h.self, n)}  ${pct(h.total, n)}  ${plainText(f.name)}${plainText(where)}`);
  }
  return `${out.join('\n')}\n`;
}
