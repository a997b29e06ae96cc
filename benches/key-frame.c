/* Time from a key press to the frame that shows it, seen from outside the app.
 *
 * Usage: key-frame X Y FORWARD_KEYSYM BACK_KEYSYM N
 * Presses FORWARD and BACK alternately, N times in all, through the XTest extension (as a
 * real keyboard would arrive at the X server), and after each press polls the root window's
 * pixel (X, Y) every 0.2 ms until it differs from its colour before the press, i.e. until the
 * app has drawn and presented the frame with the focus moved. Pick a pixel inside a widget
 * whose fill changes with focus. Prints one line per press (ms), then "median MS max MS".
 * Needs DISPLAY (Xvfb), no compositor, and the app's window focused.
 * Build: cc -O2 -o key-frame key-frame.c -lX11 -l:libXtst.so.6
 *   (the XTest prototype is declared here: only libxtst6, which xdotool needs, is required).
 * SPDX-License-Identifier: GPL-3.0-only */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int XTestFakeKeyEvent(Display *display, unsigned int keycode, Bool is_press, unsigned long delay);

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static unsigned long pixel(Display *d, Window root, int x, int y) {
    XImage *img = XGetImage(d, root, x, y, 1, 1, AllPlanes, ZPixmap);
    unsigned long px = img ? (XGetPixel(img, 0, 0) & 0xffffff) : 0;
    if (img) XDestroyImage(img);
    return px;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s X Y FORWARD_KEYSYM BACK_KEYSYM N\n", argv[0]);
        return 2;
    }
    int x = atoi(argv[1]), y = atoi(argv[2]), n = atoi(argv[5]);
    if (n < 1 || n > 1000) {
        fprintf(stderr, "N must be 1..1000\n");
        return 2;
    }
    Display *d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "cannot open the display\n");
        return 2;
    }
    KeyCode keys[2] = {XKeysymToKeycode(d, XStringToKeysym(argv[3])),
                       XKeysymToKeycode(d, XStringToKeysym(argv[4]))};
    if (!keys[0] || !keys[1]) {
        fprintf(stderr, "unknown keysym\n");
        return 2;
    }
    Window root = DefaultRootWindow(d);
    double *ms = calloc((size_t)n, sizeof *ms);
    for (int i = 0; i < n; i++) {
        unsigned long before = pixel(d, root, x, y);
        double t0 = now_ms();
        XTestFakeKeyEvent(d, keys[i % 2], True, 0);
        XTestFakeKeyEvent(d, keys[i % 2], False, 0);
        XFlush(d);
        for (;;) {
            double dt = now_ms() - t0;
            if (pixel(d, root, x, y) != before) {
                ms[i] = dt;
                break;
            }
            if (dt > 2000) {
                printf("timeout after press %d\n", i + 1);
                return 1;
            }
            usleep(200);
        }
        printf("%.2f\n", ms[i]);
        usleep(150000); /* let the app go idle before the next press */
    }
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("median %.2f max %.2f\n", ms[n / 2], ms[n - 1]);
    return 0;
}
