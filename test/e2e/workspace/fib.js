// A CPU-bound script for the profile e2e test: nearly all of its time is in fib below.

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

let sink = 0;
for (;;) sink += fib(25) & 1;
