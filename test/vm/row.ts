// One line of the kernel matrix, written by the in-VM checks and read back by scripts/kernels/matrix.ts.

export interface CheckRow {
  /** `uname -r` inside the VM. */
  kernel: string;
  /** 'tasks' (iterator or /proc fallback), 'switch', 'exit', 'all', or 'cli' for the end-to-end diagnosis. */
  collector: string;
  attach: string;
  check: string;
  /** refused = the kernel would not load or attach this candidate (not a failure of Hotspot). */
  status: 'pass' | 'fail' | 'refused';
  /** The measured figures next to /proc's, or why it failed. */
  figures: string;
}

/** File (in the results dir shared with the host) that collects the rows, one JSON object per line. */
export const ROWS_FILE = 'checks.jsonl';
