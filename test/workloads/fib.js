// A Node process whose CPU goes to one recursive function, for the profiler's tests: started with
// --perf-basic-prof-only-functions --interpreted-frames-native-stack, its hot frames are `fib (fib.js:LINE)`,
// LINE being the line of the function below (the tests read it from this file, not from a constant).

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

let sink = 0;
for (;;) sink += fib(25) & 1;
