/*
 * abuse: what a careless or hostile caller can do to the xnano C API, and
 * what it must get back: an error code, never a crash, a leak, a hang or a
 * thread or file descriptor left behind.
 *
 *   abuse [CYCLES] [THREADS] [PAUSE_US]   (defaults: 1000 cycles, 8 threads, 0)
 *
 * PAUSE_US makes the hammering threads pause between calls: valgrind runs
 * one thread at a time, and threads that never pause would leave the
 * library's own threads no turn.
 *
 * 1. NULL for every handle and every pointer argument.
 * 2. Calls in the wrong state (before connect, after stop, twice).
 * 3. Stop and free from inside the client's own callback.
 * 4. CYCLES x create / connect / stop / free against one simulated
 *    console; afterwards the process has as many threads and file
 *    descriptors as before.
 * 5. THREADS threads hammering one streaming client with every call while
 *    the main thread stops and then frees it.
 *
 * Exits 0 when every expectation held; prints each failure.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xnano.h"

static int failures = 0;

#define EXPECT(cond, ...)                                                         \
    do {                                                                          \
        if (!(cond)) {                                                            \
            failures++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                         \
            fprintf(stderr, " (last error: %s)\n", xnano_last_error());           \
        }                                                                         \
    } while (0)

#define EXPECT_RESULT(call, want)                                                 \
    do {                                                                          \
        xnano_result got_ = (call);                                               \
        EXPECT(got_ == (want), "%s returned %s, want %s", #call,                  \
               xnano_result_name((int32_t)got_), xnano_result_name((int32_t)(want))); \
    } while (0)

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------ 1, 2 */

static void null_everywhere(void)
{
    xnano_client *c = NULL;
    xnano_client_config cfg;
    xnano_client_stats st;
    xnano_state state;
    xnano_controller_state pad;
    memset(&pad, 0, sizeof pad);
    xnano_event *ev = NULL;
    uint32_t q[6] = {0};

    EXPECT_RESULT(xnano_client_config_default(NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_new(NULL, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_connect_nano(NULL, "127.0.0.1", 1, 2), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_get_state(NULL, &state), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_set_controller_state(NULL, 0, &pad), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_set_controller_connected(NULL, 0, true), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_request_keyframe(NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_change_video_quality(NULL, q, 6), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_send_chat_audio(NULL, (const uint8_t *)"x", 1), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_get_stats(NULL, &st), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_next_event(NULL, 0, &ev), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_stop(NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_free(NULL), XNANO_OK);
    xnano_event_free(NULL);
    xnano_sim_free(NULL);
    xnano_discovery_free(NULL);
    xnano_gamestream_config_free(NULL);
    EXPECT_RESULT(xnano_console_free(NULL), XNANO_OK);
    EXPECT_RESULT(xnano_sim_new(NULL, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_sim_nano_ports(NULL, NULL, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_console_new(NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_console_power_off(NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_discover(NULL, 10, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_power_on(NULL, NULL, 1), XNANO_ERR_NULL);
    EXPECT(xnano_result_name(9999) != NULL, "result_name of an unknown code");

    /* A live client with NULL out-pointers / arguments. */
    EXPECT_RESULT(xnano_client_config_default(&cfg), XNANO_OK);
    EXPECT_RESULT(xnano_client_new(&cfg, &c), XNANO_OK);
    EXPECT_RESULT(xnano_client_get_state(c, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_get_stats(c, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_connect_nano(c, NULL, 1, 2), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_set_controller_state(c, 0, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_next_event(c, 0, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_client_change_video_quality(c, NULL, 6), XNANO_ERR_NULL);

    /* Wrong state: nothing to do before connect. */
    EXPECT_RESULT(xnano_client_set_controller_state(c, 0, &pad), XNANO_ERR_WRONG_STATE);
    EXPECT_RESULT(xnano_client_request_keyframe(c), XNANO_ERR_WRONG_STATE);
    /* Bad arguments. */
    EXPECT_RESULT(xnano_client_set_controller_state(c, 7, &pad), XNANO_ERR_INVALID_ARGUMENT);
    EXPECT_RESULT(xnano_client_change_video_quality(c, q, 5), XNANO_ERR_INVALID_ARGUMENT);
    /* Nothing listens on port 1: connect fails, the handle stays usable. */
    xnano_result r = xnano_client_connect_nano(c, "127.0.0.1", 1, 1);
    EXPECT(r != XNANO_OK, "connect to a closed port succeeded");
    r = xnano_client_connect_nano(c, "no-such-host.invalid", 1, 1);
    EXPECT(r == XNANO_ERR_IO || r == XNANO_ERR_INVALID_ARGUMENT, "unresolvable host: %s",
           xnano_result_name((int32_t)r));
    EXPECT_RESULT(xnano_client_free(c), XNANO_OK);
}

/* ------------------------------------------------------------------ 3 */

struct cb_app {
    xnano_client *client;
    atomic_int stop_result;
    atomic_int free_result;
    atomic_int frames;
};

static void on_video_abuse(void *user_data, const xnano_video_frame *frame)
{
    (void)frame;
    struct cb_app *a = user_data;
    if (atomic_fetch_add(&a->frames, 1) == 3) {
        atomic_store(&a->stop_result, (int)xnano_client_stop(a->client));
        atomic_store(&a->free_result, (int)xnano_client_free(a->client));
    }
}

static void from_callback(uint16_t tcp, uint16_t udp)
{
    struct cb_app a;
    memset(&a, 0, sizeof a);
    atomic_init(&a.stop_result, -1);
    atomic_init(&a.free_result, -1);
    atomic_init(&a.frames, 0);
    EXPECT_RESULT(xnano_client_new(NULL, &a.client), XNANO_OK);
    EXPECT_RESULT(xnano_client_set_video_callback(a.client, on_video_abuse, &a), XNANO_OK);
    EXPECT_RESULT(xnano_client_connect_nano(a.client, "127.0.0.1", tcp, udp), XNANO_OK);
    /* Connecting twice is a state error, and does not disturb the stream. */
    EXPECT_RESULT(xnano_client_connect_nano(a.client, "127.0.0.1", tcp, udp),
                  XNANO_ERR_WRONG_STATE);
    /* Callbacks can only be set before connecting. */
    EXPECT_RESULT(xnano_client_set_video_callback(a.client, on_video_abuse, &a),
                  XNANO_ERR_WRONG_STATE);
    double t0 = now_s();
    /* A generous bound: under valgrind one thread runs at a time. */
    while (atomic_load(&a.frames) < 5 && now_s() - t0 < 120) {
        sleep_ms(5);
    }
    EXPECT(atomic_load(&a.frames) >= 5, "only %d frames", atomic_load(&a.frames));
    EXPECT(atomic_load(&a.stop_result) == XNANO_ERR_FROM_CALLBACK, "stop in callback: %s",
           xnano_result_name(atomic_load(&a.stop_result)));
    EXPECT(atomic_load(&a.free_result) == XNANO_ERR_FROM_CALLBACK, "free in callback: %s",
           xnano_result_name(atomic_load(&a.free_result)));
    EXPECT_RESULT(xnano_client_stop(a.client), XNANO_OK);
    /* Stop twice is harmless; calls after stop are state errors. */
    xnano_result again = xnano_client_stop(a.client);
    EXPECT(again == XNANO_OK || again == XNANO_ERR_WRONG_STATE || again == XNANO_ERR_CLOSED,
           "second stop: %s", xnano_result_name((int32_t)again));
    EXPECT(xnano_client_request_keyframe(a.client) != XNANO_OK, "keyframe request after stop");
    EXPECT_RESULT(xnano_client_free(a.client), XNANO_OK);
}

/* ------------------------------------------------------------------ 4 */

static void on_video_count(void *user_data, const xnano_video_frame *frame)
{
    (void)frame;
    atomic_fetch_add((atomic_int *)user_data, 1);
}

static void cycles(uint16_t tcp, uint16_t udp, int n)
{
    int threads0 = count_dir("/proc/self/task");
    int fds0 = count_dir("/proc/self/fd");
    double t0 = now_s();
    int streamed = 0;
    for (int i = 0; i < n; i++) {
        xnano_client *c = NULL;
        atomic_int frames;
        atomic_init(&frames, 0);
        if (xnano_client_new(NULL, &c) != XNANO_OK) {
            EXPECT(0, "cycle %d: client_new", i);
            break;
        }
        EXPECT_RESULT(xnano_client_set_video_callback(c, on_video_count, &frames), XNANO_OK);
        xnano_result r = xnano_client_connect_nano(c, "127.0.0.1", tcp, udp);
        EXPECT(r == XNANO_OK, "cycle %d: connect: %s", i, xnano_result_name((int32_t)r));
        /* Every tenth cycle streams until a frame arrives; the others stop
           at once, in the middle of the set-up. */
        if (r == XNANO_OK && i % 10 == 0) {
            double s = now_s();
            while (atomic_load(&frames) == 0 && now_s() - s < 60) {
                sleep_ms(1);
            }
            EXPECT(atomic_load(&frames) > 0, "cycle %d: no frame", i);
            streamed++;
        }
        EXPECT_RESULT(xnano_client_stop(c), XNANO_OK);
        EXPECT_RESULT(xnano_client_free(c), XNANO_OK);
        if ((i + 1) % 100 == 0) {
            printf("  %d cycles, %.1f s, threads %d, fds %d\n", i + 1, now_s() - t0,
                   count_dir("/proc/self/task"), count_dir("/proc/self/fd"));
            fflush(stdout);
        }
    }
    /* Sockets closed by the console side may take a moment to go. */
    sleep_ms(200);
    int threads1 = count_dir("/proc/self/task");
    int fds1 = count_dir("/proc/self/fd");
    printf("cycles: %d create/connect/stop/free (%d streamed), %.1f s; threads %d -> %d, fds %d "
           "-> %d\n",
           n, streamed, now_s() - t0, threads0, threads1, fds0, fds1);
    EXPECT(threads1 == threads0, "threads left behind: %d -> %d", threads0, threads1);
    EXPECT(fds1 <= fds0, "file descriptors left behind: %d -> %d", fds0, fds1);
}

/* ------------------------------------------------------------------ 5 */

struct hammer {
    xnano_client *client;
    long pause_us;
    atomic_int *go;
    unsigned seed;
    long calls;
    long ok;
    long bad_codes;
};

static void *hammer_thread(void *p)
{
    struct hammer *h = p;
    xnano_controller_state pad;
    memset(&pad, 0, sizeof pad);
    uint32_t q[6] = {1, 2, 3, 4, 5, 6};
    while (atomic_load(h->go) == 0) {
        sleep_ms(1);
    }
    while (atomic_load(h->go) == 1) {
        h->seed = h->seed * 1103515245u + 12345u;
        xnano_result r = XNANO_OK;
        xnano_client_stats st;
        xnano_state state;
        xnano_event *ev = NULL;
        switch ((h->seed >> 16) % 8) {
        case 0:
            pad.buttons = (uint16_t)(h->seed >> 8);
            pad.left_trigger = (uint8_t)h->seed;
            r = xnano_client_set_controller_state(h->client, (uint8_t)((h->seed >> 20) % 4), &pad);
            break;
        case 1: r = xnano_client_get_stats(h->client, &st); break;
        case 2: r = xnano_client_get_state(h->client, &state); break;
        case 3: r = xnano_client_request_keyframe(h->client); break;
        case 4: r = xnano_client_change_video_quality(h->client, q, 6); break;
        case 5:
            r = xnano_client_next_event(h->client, 0, &ev);
            if (r == XNANO_OK) {
                xnano_event_free(ev);
            }
            break;
        case 6: r = xnano_client_set_controller_connected(h->client, 1, (h->seed >> 3) & 1); break;
        case 7: r = xnano_client_send_chat_audio(h->client, (const uint8_t *)"abcd", 4); break;
        }
        h->calls++;
        if (h->pause_us > 0) {
            struct timespec ts = {0, h->pause_us * 1000L};
            nanosleep(&ts, NULL);
        }
        if (r == XNANO_OK) {
            h->ok++;
        } else if (r != XNANO_ERR_WRONG_STATE && r != XNANO_ERR_CLOSED &&
                   r != XNANO_ERR_TIMEOUT && r != XNANO_ERR_INVALID_ARGUMENT &&
                   r != XNANO_ERR_BUFFER_TOO_SMALL) {
            h->bad_codes++;
            if (h->bad_codes < 5) {
                fprintf(stderr, "hammer: unexpected %s: %s\n", xnano_result_name((int32_t)r),
                        xnano_last_error());
            }
        }
    }
    return NULL;
}

static void concurrency(uint16_t tcp, uint16_t udp, int nthreads, long pause_us)
{
    xnano_client *c = NULL;
    atomic_int frames;
    atomic_init(&frames, 0);
    atomic_int go;
    atomic_init(&go, 0);
    EXPECT_RESULT(xnano_client_new(NULL, &c), XNANO_OK);
    EXPECT_RESULT(xnano_client_set_video_callback(c, on_video_count, &frames), XNANO_OK);
    EXPECT_RESULT(xnano_client_connect_nano(c, "127.0.0.1", tcp, udp), XNANO_OK);
    pthread_t *tids = calloc((size_t)nthreads, sizeof *tids);
    struct hammer *hs = calloc((size_t)nthreads, sizeof *hs);
    for (int i = 0; i < nthreads; i++) {
        hs[i].client = c;
        hs[i].pause_us = pause_us;
        hs[i].go = &go;
        hs[i].seed = (unsigned)i * 7919u + 1u;
        pthread_create(&tids[i], NULL, hammer_thread, &hs[i]);
    }
    atomic_store(&go, 1);
    /* Hammer for at least 1.5 s and until a frame has arrived (at most
       120 s: under valgrind the hammering threads can starve the stream). */
    double h0 = now_s();
    while (now_s() - h0 < 1.5 || (atomic_load(&frames) == 0 && now_s() - h0 < 120)) {
        sleep_ms(10);
    }
    /* Wait for a frame to arrive while hammered (a condition, not a rate:
       under valgrind the first frame can take many seconds). */
    for (int waited = 0; atomic_load(&frames) == 0 && waited < 120000; waited += 50) {
        sleep_ms(50);
    }
    /* Stop while the threads keep calling; they must get errors, not crashes. */
    double s0 = now_s();
    EXPECT_RESULT(xnano_client_stop(c), XNANO_OK);
    double stop_s = now_s() - s0;
    sleep_ms(300);
    atomic_store(&go, 2);
    long calls = 0, ok = 0, bad = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(tids[i], NULL);
        calls += hs[i].calls;
        ok += hs[i].ok;
        bad += hs[i].bad_codes;
    }
    EXPECT_RESULT(xnano_client_free(c), XNANO_OK);
    printf("concurrency: %d threads, %ld calls (%ld ok), %d frames while hammered, stop took "
           "%.2f s\n",
           nthreads, calls, ok, atomic_load(&frames), stop_s);
    EXPECT(bad == 0, "%ld unexpected result codes", bad);
    EXPECT(atomic_load(&frames) > 0, "no frames while hammered");
    EXPECT(calls > (pause_us > 0 ? 100 : 1000), "only %ld calls", calls);
    /* Generous bound for a loaded machine and sanitizers; it was 0.3 s. */
    EXPECT(stop_s < 5.0, "stop took %.2f s while hammered", stop_s);
    free(tids);
    free(hs);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int nthreads = argc > 2 ? atoi(argv[2]) : 8;
    long pause_us = argc > 3 ? atol(argv[3]) : 0;

    null_everywhere();
    printf("null / wrong state: done\n");

    xnano_sim_config sc;
    xnano_sim *sim = NULL;
    EXPECT_RESULT(xnano_sim_config_default(&sc), XNANO_OK);
    sc.video_source = XNANO_SIM_VIDEO_SYNTHETIC;
    sc.width = 320;
    sc.height = 240;
    sc.smartglass = false;
    if (xnano_sim_new(&sc, &sim) != XNANO_OK) {
        fprintf(stderr, "sim_new: %s\n", xnano_last_error());
        return 1;
    }
    uint16_t tcp = 0, udp = 0;
    EXPECT_RESULT(xnano_sim_nano_ports(sim, &tcp, &udp), XNANO_OK);

    from_callback(tcp, udp);
    printf("stop / free from a callback: done\n");
    cycles(tcp, udp, n);
    concurrency(tcp, udp, nthreads, pause_us);

    xnano_sim_free(sim);
    if (failures) {
        printf("abuse: %d FAILURES\n", failures);
        return 1;
    }
    printf("abuse: PASS\n");
    return 0;
}
