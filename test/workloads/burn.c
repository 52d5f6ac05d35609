// CPU burner: argv[1] threads (default 1) spinning until killed. Built by test/workloads/index.ts with the system cc.
#include <pthread.h>
#include <stdlib.h>

static void *spin(void *arg) {
  volatile unsigned long n = 0;
  for (;;) n++;
  return arg;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  pthread_t t;
  for (int i = 1; i < threads; i++) pthread_create(&t, NULL, spin, NULL);
  spin(NULL);
  return 0;
}
