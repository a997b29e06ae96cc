/* Time from exec to the first frame on screen, seen from outside the app.
 *
 * Usage: first-frame X Y RRGGBB TIMEOUT_MS -- PROGRAM [ARGS...]
 * Forks, execs PROGRAM, and polls the root window's pixel (X, Y) every millisecond until it
 * has the colour RRGGBB; prints the elapsed milliseconds and the child's pid, and leaves
 * the child running. Needs DISPLAY (Xvfb) and no compositor.
 * Build: cc -O2 -o first-frame first-frame.c -lX11
 * SPDX-License-Identifier: GPL-3.0-only */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: %s X Y RRGGBB TIMEOUT_MS -- PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    int x = atoi(argv[1]), y = atoi(argv[2]);
    unsigned long want = strtoul(argv[3], NULL, 16);
    double timeout = atof(argv[4]);
    Display *d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "cannot open the display\n");
        return 2;
    }
    Window root = DefaultRootWindow(d);
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[6], &argv[6]);
        perror("exec");
        _exit(127);
    }
    for (;;) {
        XImage *img = XGetImage(d, root, x, y, 1, 1, AllPlanes, ZPixmap);
        unsigned long px = img ? (XGetPixel(img, 0, 0) & 0xffffff) : 0;
        if (img) XDestroyImage(img);
        double dt = now_ms() - t0;
        if (px == want) {
            printf("%.1f %d\n", dt, (int)pid);
            return 0;
        }
        if (dt > timeout) {
            printf("timeout %d\n", (int)pid);
            return 1;
        }
        usleep(1000);
    }
}
