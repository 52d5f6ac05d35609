// N mostly idle processes: each wakes once per period (default 1 s) and sleeps again, so a collector sees N
// distinct TGIDs per window at almost no CPU. With a third argument `fault`, each wake-up also maps, touches and
// unmaps a page: one minor fault, so no process is ever quiet (every window reports all of them in full).
// Runs until SIGTERM/SIGINT; the children die with it.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  long period_ms = argc > 2 ? atol(argv[2]) : 1000;
  int fault = argc > 3 && strcmp(argv[3], "fault") == 0;
  for (long i = 0; i < n; i++) {
    pid_t c = fork();
    if (c < 0) return perror("fork"), 1;
    if (c == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      usleep((useconds_t)((i * 7919) % (period_ms * 1000))); // spread the wake-ups over the period
      for (;;) {
        usleep((useconds_t)(period_ms * 1000));
        if (fault) {
          char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          if (p != MAP_FAILED) {
            p[0] = 1;
            munmap(p, 4096);
          }
        }
      }
    }
  }
  printf("ready %ld\n", n);
  fflush(stdout);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sig;
  sigwait(&set, &sig);
  return 0; // every child has PR_SET_PDEATHSIG: they go with us

}
