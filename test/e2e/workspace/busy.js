// A busy program to debug: spins on the CPU in short bursts and prints a heartbeat.
let n = 0;
setInterval(() => {
  const end = Date.now() + 200;
  while (Date.now() < end) n++;
  console.log(`busy ${process.pid}: ${n}`);
}, 250);
