// fsync loop: 64 KiB pwrite + fdatasync N times to a file on the root file system (a real block device), cycling
// through its first 16 MiB. Every operation sleeps in D for the disk, so sched_switch sees the blocked-time path
// (switch-out in D, switch-in after it) on nearly every switch of this process. Prints the mean CPU microseconds
// per operation (getrusage: user + system) and the mean wall microseconds, like pingpong.c.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000;
  char path[] = "/var/tmp/hotspot-fsyncloop-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return perror("mkstemp"), 1;
  unlink(path);
  static char buf[65536];
  memset(buf, 'x', sizeof buf);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    if (pwrite(fd, buf, sizeof buf, (i % 256) * (off_t)sizeof buf) != (ssize_t)sizeof buf) return perror("pwrite"), 1;
    if (fdatasync(fd)) return perror("fdatasync"), 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  struct rusage self;
  getrusage(RUSAGE_SELF, &self);
  double cpu_us = (self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1e6 + self.ru_utime.tv_usec + self.ru_stime.tv_usec;
  double wall_us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3;
  printf("%.4f %.4f\n", cpu_us / n, wall_us / n);
  return 0;
}
