/*
 * abuse: what a careless or hostile caller can do to the xnano C API, and
 * what it must get back: an error code, never a crash, a leak, a hang, a
 * callback after a call that promised none, or a thread or file descriptor
 * left behind.
 *
 *   abuse [CYCLES] [THREADS] [PAUSE_US] [RACES]
 *         (defaults: 1000 cycles, 8 threads, 0, 50 rounds of each race)
 *
 * PAUSE_US makes the hammering threads pause between calls: valgrind runs
 * one thread at a time, and threads that never pause would leave the
 * library's own threads no turn. RACES is the number of rounds of each of
 * 6a-6f (valgrind runs few).
 *
 * The simulated console is libxnano_sim (sim/include/xnano_sim.h), a
 * library of its own (-Iinclude -Isim/include, -lxnano -lxnano_sim; see
 * examples/c/Makefile); a failed xnano_sim_* call is described by
 * xnano_sim_last_error(), not xnano_last_error().
 *
 * 1. NULL for every handle and every pointer argument; each library keeps
 *    its own last error (a failed xnano_sim_* call leaves
 *    xnano_last_error() alone, and the other way round).
 * 2. Calls in the wrong state (before connect, after stop, twice).
 * 3. Stop from inside the client's own callback (refused, not a deadlock).
 * 4. CYCLES x create / connect / stop / free against one simulated
 *    console; afterwards the process has as many threads and file
 *    descriptors as before.
 * 5. THREADS threads hammering one streaming client with every call while
 *    the main thread stops and then frees it.
 * 6. The promises of ABI 1 under races, RACES rounds each. Every callback
 *    of the handle counts itself; each call that promises "no callback
 *    once I returned" records the count right after it returned, in its
 *    own thread, and sets a "promised" flag; after a pause the count must
 *    still be that, and no callback may have begun with the flag set.
 *    a. two xnano_client_stop at once (barrier-started) on a streaming
 *       client: both XNANO_OK, one CLOSED.
 *    b. xnano_client_stop racing xnano_client_free: the free comes while
 *       the stop is in flight (it joins the threads of a client whose
 *       video callback is slow), and is the last call.
 *    c. xnano_console_disconnect racing xnano_console_connect after a
 *       varying delay: the connect returns XNANO_OK or XNANO_ERR_CLOSED; a
 *       CLOSED connect called nothing back (and the console can be
 *       connected again); after the disconnect returned nothing is called.
 *    d. two xnano_console_disconnect at once: both XNANO_OK, one CLOSED.
 *    e. free from inside every callback kind (client video, audio, rumble,
 *       state; the console event callback): the free returns, nothing is
 *       called back after that callback, and the library releases the
 *       handle on its own thread (waited for: the simulated console sees
 *       the client go, and the process is back to its thread count), so
 *       the leak check at exit sees nothing.
 *    f. STRUCT GROWTH: truncated copies of xnano_client_config and
 *       xnano_client_stats (the first fields of the header's, then guard
 *       bytes): the library writes only inside struct_size (every size
 *       from 0 to past the real struct, and the truncated structs in
 *       exactly-sized heap blocks for valgrind / ASan), gives struct_size
 *       back as min(caller's, its own), refuses struct_size < 4 with
 *       XNANO_ERR_INVALID_ARGUMENT, and a client made from the truncated
 *       config streams (fields beyond it take their defaults).
 *
 * Exits 0 when every expectation held; prints each failure.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int failures = 0;

/* The message that describes a failed `call` (its source text): libxnano_sim
 * keeps its own, xnano_sim_last_error(); every other call's is
 * xnano_last_error(). */
static const char *last_error_of(const char *call)
{
    return strncmp(call, "xnano_sim_", 10) == 0 ? xnano_sim_last_error() : xnano_last_error();
}

#define EXPECT_WITH(cond, last_error, ...)                                        \
    do {                                                                          \
        if (!(cond)) {                                                            \
            failures++;                                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                         \
            fprintf(stderr, " (last error: %s)\n", (last_error));                 \
        }                                                                         \
    } while (0)

#define EXPECT(cond, ...) EXPECT_WITH(cond, xnano_last_error(), __VA_ARGS__)

#define EXPECT_RESULT(call, want)                                                 \
    do {                                                                          \
        xnano_result got_ = (call);                                               \
        EXPECT_WITH(got_ == (want), last_error_of(#call), "%s returned %s, want %s", \
                    #call, xnano_result_name(got_), xnano_result_name(want));     \
    } while (0)

/* How long a promise is watched after the call returned. */
#define SETTLE_MS 50
/* Generous bounds: under valgrind one thread runs at a time. */
#define SLOW_S 120.0

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

static int thread_count(void)
{
    return count_dir("/proc/self/task");
}

/* Configs with every struct_size set and generous timeouts (valgrind). */
static void abuse_client_config(xnano_client_config *cfg)
{
    EXPECT_RESULT(client_config(cfg, 30000), XNANO_OK);
    /* Under valgrind (one thread at a time) a frame's chunks can be 16 ms
       apart: this program tests the API, not the reassembler's timing. */
    cfg->defrag_timeout_ms = 500;
    cfg->struct_size = sizeof *cfg;
}

static void console_config(xnano_console_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    EXPECT_RESULT(xnano_console_config_default(cfg), XNANO_OK);
    cfg->discovery_timeout_ms = 20000;
    cfg->wait_timeout_ms = 30000;
    cfg->struct_size = sizeof *cfg;
}

static xnano_sim_stats sim_stats(xnano_sim *sim)
{
    xnano_sim_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    EXPECT_RESULT(xnano_sim_get_stats(sim, &st), XNANO_OK);
    return st;
}

/* ------------------------------------------------------------------ 1, 2 */

static void null_everywhere(void)
{
    xnano_client *c = NULL;
    xnano_client_config cfg;
    xnano_client_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    xnano_sim_stats ss;
    memset(&ss, 0, sizeof ss);
    ss.struct_size = sizeof ss;
    xnano_console_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    xnano_state state;
    xnano_console_state cstate;
    xnano_controller_state pad;
    memset(&pad, 0, sizeof pad);
    pad.struct_size = sizeof pad;
    xnano_event *ev = NULL;
    uint32_t q[6] = {0};
    uint16_t port = 0;

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
    /* Frees accept NULL and return nothing. */
    xnano_client_free(NULL);
    xnano_event_free(NULL);
    xnano_sim_free(NULL);
    xnano_discovery_free(NULL);
    xnano_gamestream_config_free(NULL);
    xnano_console_free(NULL);
    xnano_console_event_free(NULL);
    EXPECT_RESULT(xnano_sim_new(NULL, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_sim_nano_ports(NULL, NULL, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_sim_get_stats(NULL, &ss), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_sim_smartglass_port(NULL, &port), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_sim_console_info(NULL, &info), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_console_new(NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_console_connect(NULL, "127.0.0.1", NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_console_disconnect(NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_console_get_state(NULL, &cstate), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_console_get_info(NULL, &info), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_console_power_off(NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_discover(NULL, 10, NULL), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_discovery_get(NULL, 0, &info), XNANO_ERR_NULL);
    EXPECT_RESULT(xnano_power_on(NULL, NULL, 1), XNANO_ERR_NULL);
    EXPECT(xnano_result_name(9999) != NULL, "result_name of an unknown code");

    /* A live client with NULL out-pointers / arguments. */
    abuse_client_config(&cfg);
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
           xnano_result_name(r));
    xnano_client_free(c);
}

/* ------------------------------------------------------------------ 3 */

struct cb_app {
    xnano_client *client;
    atomic_int stop_result;
    atomic_int frames;
};

static void on_video_abuse(void *user_data, const xnano_video_frame *frame)
{
    (void)frame;
    struct cb_app *a = user_data;
    if (atomic_fetch_add(&a->frames, 1) == 3) {
        atomic_store(&a->stop_result, (int)xnano_client_stop(a->client));
    }
}

static void from_callback(uint16_t tcp, uint16_t udp)
{
    struct cb_app a;
    memset(&a, 0, sizeof a);
    atomic_init(&a.stop_result, -1);
    atomic_init(&a.frames, 0);
    xnano_client_config cfg;
    abuse_client_config(&cfg);
    EXPECT_RESULT(xnano_client_new(&cfg, &a.client), XNANO_OK);
    EXPECT_RESULT(xnano_client_set_video_callback(a.client, on_video_abuse, &a), XNANO_OK);
    EXPECT_RESULT(xnano_client_connect_nano(a.client, "127.0.0.1", tcp, udp), XNANO_OK);
    /* Connecting twice is a state error, and does not disturb the stream. */
    EXPECT_RESULT(xnano_client_connect_nano(a.client, "127.0.0.1", tcp, udp),
                  XNANO_ERR_WRONG_STATE);
    /* Callbacks can only be set before connecting. */
    EXPECT_RESULT(xnano_client_set_video_callback(a.client, on_video_abuse, &a),
                  XNANO_ERR_WRONG_STATE);
    WAIT_FOR(atomic_load(&a.frames) >= 5, SLOW_S);
    EXPECT(atomic_load(&a.frames) >= 5, "only %d frames", atomic_load(&a.frames));
    EXPECT(atomic_load(&a.stop_result) == XNANO_ERR_FROM_CALLBACK, "stop in callback: %s",
           xnano_result_name((uint32_t)atomic_load(&a.stop_result)));
    EXPECT_RESULT(xnano_client_stop(a.client), XNANO_OK);
    /* Stop twice is harmless; calls after stop are state errors. */
    EXPECT_RESULT(xnano_client_stop(a.client), XNANO_OK);
    EXPECT(xnano_client_request_keyframe(a.client) != XNANO_OK, "keyframe request after stop");
    xnano_client_free(a.client);
}

/* ------------------------------------------------------------------ 4 */

static void on_video_count(void *user_data, const xnano_video_frame *frame)
{
    (void)frame;
    atomic_fetch_add((atomic_int *)user_data, 1);
}

static void cycles(uint16_t tcp, uint16_t udp, int n)
{
    int threads0 = thread_count();
    int fds0 = count_dir("/proc/self/fd");
    double t0 = now_s();
    int streamed = 0;
    xnano_client_config cfg;
    abuse_client_config(&cfg);
    for (int i = 0; i < n; i++) {
        xnano_client *c = NULL;
        atomic_int frames;
        atomic_init(&frames, 0);
        cfg.struct_size = sizeof cfg;
        if (xnano_client_new(&cfg, &c) != XNANO_OK) {
            EXPECT(0, "cycle %d: client_new", i);
            break;
        }
        EXPECT_RESULT(xnano_client_set_video_callback(c, on_video_count, &frames), XNANO_OK);
        xnano_result r = xnano_client_connect_nano(c, "127.0.0.1", tcp, udp);
        EXPECT(r == XNANO_OK, "cycle %d: connect: %s", i, xnano_result_name(r));
        /* Every tenth cycle streams until a frame arrives; the others stop
           at once, in the middle of the set-up. */
        if (r == XNANO_OK && i % 10 == 0) {
            WAIT_FOR(atomic_load(&frames) > 0, 60);
            EXPECT(atomic_load(&frames) > 0, "cycle %d: no frame", i);
            streamed++;
        }
        EXPECT_RESULT(xnano_client_stop(c), XNANO_OK);
        xnano_client_free(c);
        if ((i + 1) % 100 == 0) {
            printf("  %d cycles, %.1f s, threads %d, fds %d\n", i + 1, now_s() - t0,
                   thread_count(), count_dir("/proc/self/fd"));
            fflush(stdout);
        }
    }
    /* Sockets closed by the console side may take a moment to go. */
    sleep_ms(200);
    int threads1 = thread_count();
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
            pad.struct_size = sizeof pad;
            pad.buttons = (uint16_t)(h->seed >> 8);
            pad.left_trigger = (uint8_t)h->seed;
            r = xnano_client_set_controller_state(h->client, (uint8_t)((h->seed >> 20) % 4), &pad);
            break;
        case 1:
            st.struct_size = sizeof st;
            r = xnano_client_get_stats(h->client, &st);
            break;
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
            sleep_us(h->pause_us);
        }
        if (r == XNANO_OK) {
            h->ok++;
        } else if (r != XNANO_ERR_WRONG_STATE && r != XNANO_ERR_CLOSED &&
                   r != XNANO_ERR_TIMEOUT && r != XNANO_ERR_INVALID_ARGUMENT &&
                   r != XNANO_ERR_BUFFER_TOO_SMALL) {
            h->bad_codes++;
            if (h->bad_codes < 5) {
                fprintf(stderr, "hammer: unexpected %s: %s\n", xnano_result_name(r),
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
    xnano_client_config cfg;
    abuse_client_config(&cfg);
    EXPECT_RESULT(xnano_client_new(&cfg, &c), XNANO_OK);
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
    /* Hammer for at least 1.5 s and until a frame has arrived (a condition,
       not a rate: under valgrind the hammering threads can starve the
       stream). */
    double h0 = now_s();
    while (now_s() - h0 < 1.5 || (atomic_load(&frames) == 0 && now_s() - h0 < SLOW_S)) {
        sleep_ms(10);
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
    xnano_client_free(c);
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

/* ------------------------------------------------------------------ 6 */

/* Every callback of a handle counts itself here. */
struct counter {
    atomic_long calls;    /* every callback */
    atomic_long frames;   /* video callbacks */
    atomic_int promised;  /* set once a promising call returned */
    atomic_long late;     /* callbacks begun while `promised` was set */
    atomic_int closed;    /* CLOSED (state or console event) */
    atomic_int slow_us;   /* callbacks sleep this long: wider race windows */
};

static void counter_init(struct counter *k)
{
    atomic_init(&k->calls, 0);
    atomic_init(&k->frames, 0);
    atomic_init(&k->promised, 0);
    atomic_init(&k->late, 0);
    atomic_init(&k->closed, 0);
    atomic_init(&k->slow_us, 0);
}

static void counted(struct counter *k)
{
    atomic_fetch_add(&k->calls, 1);
    if (atomic_load(&k->promised)) {
        atomic_fetch_add(&k->late, 1);
    }
    int us = atomic_load(&k->slow_us);
    if (us > 0) {
        sleep_us(us);
    }
}

static void k_video(void *ud, const xnano_video_frame *f)
{
    (void)f;
    struct counter *k = ud;
    atomic_fetch_add(&k->frames, 1);
    counted(k);
}

static void k_audio(void *ud, const xnano_audio_packet *p)
{
    (void)p;
    counted(ud);
}

static void k_rumble(void *ud, const xnano_rumble *r)
{
    (void)r;
    counted(ud);
}

static void k_state(void *ud, xnano_state state, xnano_result error, const char *message)
{
    (void)error;
    (void)message;
    struct counter *k = ud;
    if (state == XNANO_STATE_CLOSED) {
        atomic_fetch_add(&k->closed, 1);
    }
    counted(k);
}

static void k_console(void *ud, const xnano_console_event *ev)
{
    struct counter *k = ud;
    if (ev->kind == XNANO_CONSOLE_EVENT_CLOSED) {
        atomic_fetch_add(&k->closed, 1);
    }
    counted(k);
}

/* A client with every callback counted, connected and streaming (two
   frames delivered); NULL on failure (counted). */
static xnano_client *streaming_client(struct counter *k, uint16_t tcp, uint16_t udp)
{
    xnano_client *c = NULL;
    xnano_client_config cfg;
    abuse_client_config(&cfg);
    if (xnano_client_new(&cfg, &c) != XNANO_OK) {
        EXPECT(0, "client_new");
        return NULL;
    }
    EXPECT_RESULT(xnano_client_set_video_callback(c, k_video, k), XNANO_OK);
    EXPECT_RESULT(xnano_client_set_audio_callback(c, k_audio, k), XNANO_OK);
    EXPECT_RESULT(xnano_client_set_rumble_callback(c, k_rumble, k), XNANO_OK);
    EXPECT_RESULT(xnano_client_set_state_callback(c, k_state, k), XNANO_OK);
    EXPECT_RESULT(xnano_client_connect_nano(c, "127.0.0.1", tcp, udp), XNANO_OK);
    WAIT_FOR(atomic_load(&k->frames) >= 2, SLOW_S);
    EXPECT(atomic_load(&k->frames) >= 2, "not streaming: %ld frames", atomic_load(&k->frames));
    return c;
}

/* After a promise: SETTLE_MS later nothing more was called back. */
static int promise_kept(struct counter *k, long snap, const char *what, int round)
{
    sleep_ms(SETTLE_MS);
    long now = atomic_load(&k->calls);
    long late = atomic_load(&k->late);
    EXPECT(now == snap, "round %d: %s: %ld callbacks after it returned", round, what, now - snap);
    EXPECT(late == 0, "round %d: %s: %ld callbacks began after the promise", round, what, late);
    return now == snap && late == 0;
}

/* --- 6a, 6d. the same promising call twice at once */

struct promiser {
    xnano_result (*call)(void *handle);
    void *handle;
    struct counter *k;
    pthread_barrier_t *barrier;
    xnano_result r;
    long snap;
};

static void *promise_thread(void *p)
{
    struct promiser *s = p;
    pthread_barrier_wait(s->barrier);
    s->r = s->call(s->handle);
    /* This call returned: from now on no callback may run. */
    s->snap = atomic_load(&s->k->calls);
    atomic_store(&s->k->promised, 1);
    return NULL;
}

/* Two threads call `call(handle)` at once (barrier-started): both must
 * return XNANO_OK, keep the promise, and one CLOSED be called back. */
static int two_at_once(xnano_result (*call)(void *), void *handle, struct counter *k,
                       const char *what, int round)
{
    pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, 2);
    struct promiser s[2] = {{call, handle, k, &b, XNANO_OK, 0}, {call, handle, k, &b, XNANO_OK, 0}};
    pthread_t t[2];
    pthread_create(&t[0], NULL, promise_thread, &s[0]);
    pthread_create(&t[1], NULL, promise_thread, &s[1]);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    pthread_barrier_destroy(&b);
    EXPECT_RESULT(s[0].r, XNANO_OK);
    EXPECT_RESULT(s[1].r, XNANO_OK);
    char label[64];
    snprintf(label, sizeof label, "first %s", what);
    int ok = promise_kept(k, s[0].snap, label, round);
    snprintf(label, sizeof label, "second %s", what);
    ok = promise_kept(k, s[1].snap, label, round) && ok;
    EXPECT(atomic_load(&k->closed) == 1, "round %d: %d CLOSED", round, atomic_load(&k->closed));
    return ok && atomic_load(&k->closed) == 1;
}

static xnano_result stop_client(void *c)
{
    return xnano_client_stop(c);
}

static xnano_result disconnect_console(void *con)
{
    return xnano_console_disconnect(con);
}

static void two_stops(uint16_t tcp, uint16_t udp, int rounds)
{
    double t0 = now_s();
    int kept = 0;
    for (int i = 0; i < rounds; i++) {
        struct counter k;
        counter_init(&k);
        xnano_client *c = streaming_client(&k, tcp, udp);
        if (!c) {
            return;
        }
        /* A slow video callback (in most rounds) keeps the stops joining. */
        atomic_store(&k.slow_us, (i % 3) * 1000);
        kept += two_at_once(stop_client, c, &k, "stop", i);
        xnano_client_free(c);
    }
    printf("6a two stops at once: %d/%d rounds kept the promise, %.1f s\n", kept, rounds,
           now_s() - t0);
}

/* --- 6b. stop racing free */

struct stop_free {
    xnano_client *c;
    struct counter *k;
    atomic_int entering;
    atomic_int returned;
    xnano_result r;
    long snap;
};

static void *stop_then_flag(void *p)
{
    struct stop_free *s = p;
    atomic_store(&s->entering, 1);
    s->r = xnano_client_stop(s->c);
    s->snap = atomic_load(&s->k->calls);
    atomic_store(&s->k->promised, 1);
    atomic_store(&s->returned, 1);
    return NULL;
}

static void stop_vs_free(uint16_t tcp, uint16_t udp, int rounds)
{
    double t0 = now_s();
    int kept = 0, raced = 0;
    for (int i = 0; i < rounds; i++) {
        struct counter k;
        counter_init(&k);
        xnano_client *c = streaming_client(&k, tcp, udp);
        if (!c) {
            return;
        }
        /* A slow video callback: the stop takes a while to join it. */
        atomic_store(&k.slow_us, 2000 + (i % 3) * 1000);
        struct stop_free s;
        memset(&s, 0, sizeof s);
        s.c = c;
        s.k = &k;
        atomic_init(&s.entering, 0);
        atomic_init(&s.returned, 0);
        pthread_t t;
        pthread_create(&t, NULL, stop_then_flag, &s);
        WAIT_FOR(atomic_load(&s.entering), SLOW_S);
        /* Free only once the stop is inside the library (a free must be the
           last call on a handle): get_stats fails with WRONG_STATE while a
           stop is in progress. Or the stop already returned. */
        int in_flight = 0;
        double end = now_s() + SLOW_S;
        while (!atomic_load(&s.returned) && now_s() < end) {
            xnano_client_stats st;
            st.struct_size = sizeof st;
            if (xnano_client_get_stats(c, &st) == XNANO_ERR_WRONG_STATE) {
                in_flight = 1;
                break;
            }
            sleep_us(100);
        }
        /* Land the free at varying points of the stop. */
        sleep_us((i % 4) * 500);
        int still_running = !atomic_load(&s.returned);
        xnano_client_free(c);
        long snap_free = atomic_load(&k.calls);
        atomic_store(&k.promised, 1);
        pthread_join(t, NULL);
        raced += in_flight && still_running;
        EXPECT_RESULT(s.r, XNANO_OK);
        int ok = promise_kept(&k, snap_free, "free racing a stop", i);
        ok = promise_kept(&k, s.snap, "stop raced by a free", i) && ok;
        EXPECT(atomic_load(&k.closed) == 1, "round %d: %d CLOSED", i, atomic_load(&k.closed));
        kept += ok && atomic_load(&k.closed) == 1;
    }
    printf("6b stop racing free: %d/%d rounds kept the promise (%d freed while the stop ran), "
           "%.1f s\n",
           kept, rounds, raced, now_s() - t0);
}

/* --- 6c. disconnect racing connect */

struct conn_call {
    xnano_console *con;
    const char *address;
    const xnano_console_config *cfg;
    struct counter *k;
    long delay_us;
    xnano_result r;
    long snap;
};

static void *connect_thread(void *p)
{
    struct conn_call *s = p;
    s->r = xnano_console_connect(s->con, s->address, s->cfg);
    s->snap = atomic_load(&s->k->calls);
    return NULL;
}

static void *disconnect_thread(void *p)
{
    struct conn_call *s = p;
    if (s->delay_us > 0) {
        sleep_us(s->delay_us);
    }
    s->r = xnano_console_disconnect(s->con);
    /* This disconnect returned: no console callback may run any more. */
    s->snap = atomic_load(&s->k->calls);
    atomic_store(&s->k->promised, 1);
    return NULL;
}

static xnano_console *counted_console(struct counter *k)
{
    xnano_console *con = NULL;
    if (xnano_console_new(&con) != XNANO_OK) {
        EXPECT(0, "console_new");
        return NULL;
    }
    EXPECT_RESULT(xnano_console_set_event_callback(con, k_console, k), XNANO_OK);
    return con;
}

static xnano_console_state console_state(xnano_console *con)
{
    xnano_console_state st = 99;
    EXPECT_RESULT(xnano_console_get_state(con, &st), XNANO_OK);
    return st;
}

static void disconnect_vs_connect(const char *address, int rounds)
{
    xnano_console_config cfg;
    console_config(&cfg);
    /* How long a connect takes here: the delays span 0 to 1.5 times it. */
    struct counter k0;
    counter_init(&k0);
    xnano_console *con0 = counted_console(&k0);
    double c0 = now_s();
    EXPECT_RESULT(xnano_console_connect(con0, address, &cfg), XNANO_OK);
    double connect_s = now_s() - c0;
    EXPECT_RESULT(xnano_console_disconnect(con0), XNANO_OK);
    xnano_console_free(con0);

    double t0 = now_s();
    int won = 0, cancelled = 0, disconnect_first = 0, reconnected = 0, kept = 0;
    for (int i = 0; i < rounds; i++) {
        struct counter k;
        counter_init(&k);
        /* Slow callbacks in some rounds: the connecting thread is still
           delivering the events it held back. */
        atomic_store(&k.slow_us, (i % 2) * 3000);
        xnano_console *con = counted_console(&k);
        if (!con) {
            return;
        }
        long delay_us =
            (long)(connect_s * 1.5e6 * (double)(i % 8) / 7.0) + (long)(i % 5) * 97;
        struct conn_call cc = {con, address, &cfg, &k, 0, XNANO_OK, 0};
        struct conn_call dc = {con, address, &cfg, &k, delay_us, XNANO_OK, 0};
        pthread_t tc, td;
        pthread_create(&tc, NULL, connect_thread, &cc);
        pthread_create(&td, NULL, disconnect_thread, &dc);
        pthread_join(tc, NULL);
        pthread_join(td, NULL);
        EXPECT_RESULT(dc.r, XNANO_OK);
        int ok = dc.r == XNANO_OK;
        xnano_console_state st = console_state(con);
        if (cc.r == XNANO_ERR_CLOSED) {
            /* The disconnect cancelled the connect: nothing was called back,
               and the console is idle again. */
            cancelled++;
            EXPECT(cc.snap == 0, "round %d: a cancelled connect called back %ld times", i,
                   cc.snap);
            ok = promise_kept(&k, 0, "disconnect (cancelled connect)", i) && cc.snap == 0 && ok;
            EXPECT(st == XNANO_CONSOLE_STATE_IDLE, "round %d: state %u after a cancelled connect",
                   i, (unsigned)st);
            if (cancelled == 1 || cancelled % 5 == 0) {
                /* It can be connected again. */
                atomic_store(&k.promised, 0);
                EXPECT_RESULT(xnano_console_connect(con, address, &cfg), XNANO_OK);
                EXPECT(atomic_load(&k.calls) > 0, "round %d: no CONNECTED on reconnect", i);
                EXPECT_RESULT(xnano_console_disconnect(con), XNANO_OK);
                long snap = atomic_load(&k.calls);
                atomic_store(&k.promised, 1);
                ok = promise_kept(&k, snap, "disconnect after a reconnect", i) && ok;
                EXPECT(atomic_load(&k.closed) == 1, "round %d: %d CLOSED", i,
                       atomic_load(&k.closed));
                reconnected++;
            }
        } else if (cc.r == XNANO_OK && st == XNANO_CONSOLE_STATE_CLOSED) {
            /* The disconnect waited for the connect, then disconnected. */
            won++;
            ok = promise_kept(&k, dc.snap, "disconnect (after the connect)", i) && ok;
            EXPECT(atomic_load(&k.closed) == 1, "round %d: %d CLOSED", i,
                   atomic_load(&k.closed));
        } else if (cc.r == XNANO_OK && st == XNANO_CONSOLE_STATE_CONNECTED) {
            /* The disconnect ran before the connect had begun (the console
               was idle): it promised nothing about a later connect. */
            disconnect_first++;
            EXPECT_RESULT(xnano_console_disconnect(con), XNANO_OK);
            long snap = atomic_load(&k.calls);
            atomic_store(&k.late, 0);
            atomic_store(&k.promised, 1);
            ok = promise_kept(&k, snap, "disconnect (second)", i) && ok;
        } else {
            EXPECT(0, "round %d: connect returned %s in state %u", i, xnano_result_name(cc.r),
                   (unsigned)st);
            ok = 0;
        }
        kept += ok;
        xnano_console_free(con);
    }
    printf("6c disconnect racing connect (delays 0..%.0f ms): %d/%d rounds kept the promise; "
           "connect won %d, cancelled (XNANO_ERR_CLOSED, no callback) %d (%d reconnected), "
           "disconnect first %d; %.1f s\n",
           connect_s * 1.5e3, kept, rounds, won, cancelled, reconnected, disconnect_first,
           now_s() - t0);
}

/* --- 6d. two disconnects at once */

static void two_disconnects(const char *address, int rounds)
{
    xnano_console_config cfg;
    console_config(&cfg);
    double t0 = now_s();
    int kept = 0;
    for (int i = 0; i < rounds; i++) {
        struct counter k;
        counter_init(&k);
        xnano_console *con = counted_console(&k);
        if (!con) {
            return;
        }
        EXPECT_RESULT(xnano_console_connect(con, address, &cfg), XNANO_OK);
        /* Let the channels open (events flow on the socket thread) in some
           rounds; disconnect at once in the others. */
        if (i % 2 == 0) {
            WAIT_FOR(atomic_load(&k.calls) >= 3, 10);
        }
        atomic_store(&k.slow_us, (i % 3) * 2000);
        int ok = two_at_once(disconnect_console, con, &k, "disconnect", i);
        EXPECT(console_state(con) == XNANO_CONSOLE_STATE_CLOSED, "round %d: not closed", i);
        kept += ok;
        xnano_console_free(con);
    }
    printf("6d two disconnects at once: %d/%d rounds kept the promise, %.1f s\n", kept, rounds,
           now_s() - t0);
}

/* --- 6e. free from inside each callback kind */

enum cb_kind { KIND_VIDEO, KIND_AUDIO, KIND_RUMBLE, KIND_STATE, KIND_CONSOLE, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {"video", "audio", "rumble", "state",
                                                   "console event"};

struct fic {
    xnano_client *client;
    xnano_console *console;
    int kind;            /* the callback that frees */
    atomic_int armed;    /* set once the main thread made its last call */
    atomic_int claimed;  /* who frees: the callback, or main on a timeout */
    atomic_int freed;    /* the freeing callback's free returned */
    atomic_long calls;
    atomic_long late;    /* callbacks begun after the free returned */
    atomic_long snap;    /* calls right after the free returned */
    atomic_int freed_in_state; /* KIND_STATE: the state it freed in */
    atomic_int ticks;    /* video callbacks since armed (KIND_RUMBLE sends input) */
};

/* Every callback: counts itself, then frees the handle if it is the kind
   chosen and the main thread is done with the handle. */
static int fic_enter(struct fic *f, int kind)
{
    atomic_fetch_add(&f->calls, 1);
    if (atomic_load(&f->freed)) {
        atomic_fetch_add(&f->late, 1);
    }
    if (kind != f->kind || !atomic_load(&f->armed)) {
        return 0;
    }
    int expected = 0;
    return atomic_compare_exchange_strong(&f->claimed, &expected, 1);
}

static void fic_freed(struct fic *f)
{
    /* The free returned inside the callback: no callback after this one. */
    atomic_store(&f->snap, atomic_load(&f->calls));
    atomic_store(&f->freed, 1);
}

static void fic_video(void *ud, const xnano_video_frame *fr)
{
    (void)fr;
    struct fic *f = ud;
    if (fic_enter(f, KIND_VIDEO)) {
        xnano_client_free(f->client);
        fic_freed(f);
        return;
    }
    /* The rumble round: the console answers input with rumble. Sent from a
       callback, which never runs at the same time as the one that frees. */
    if (f->kind == KIND_RUMBLE && atomic_load(&f->armed) && !atomic_load(&f->claimed)) {
        int t = atomic_fetch_add(&f->ticks, 1);
        if (t % 3 == 0) {
            xnano_controller_state pad;
            memset(&pad, 0, sizeof pad);
            pad.struct_size = sizeof pad;
            pad.buttons = (t / 3) % 2 ? XNANO_BUTTON_A : 0;
            pad.right_trigger = (uint8_t)(t + 1);
            xnano_result r = xnano_client_set_controller_state(f->client, 0, &pad);
            EXPECT(r == XNANO_OK, "set_controller_state in a callback: %s", xnano_result_name(r));
        }
    }
}

/* The round's callback of `kind` frees the client inside itself. */
static void fic_free_client(struct fic *f, int kind)
{
    if (fic_enter(f, kind)) {
        xnano_client_free(f->client);
        fic_freed(f);
    }
}

static void fic_audio(void *ud, const xnano_audio_packet *p)
{
    (void)p;
    fic_free_client(ud, KIND_AUDIO);
}

static void fic_rumble(void *ud, const xnano_rumble *r)
{
    (void)r;
    fic_free_client(ud, KIND_RUMBLE);
}

static void fic_state(void *ud, xnano_state state, xnano_result error, const char *message)
{
    (void)error;
    (void)message;
    struct fic *f = ud;
    if (fic_enter(f, KIND_STATE)) {
        atomic_store(&f->freed_in_state, (int)state);
        xnano_client_free(f->client);
        fic_freed(f);
    }
}

static void fic_console(void *ud, const xnano_console_event *ev)
{
    (void)ev;
    struct fic *f = ud;
    if (fic_enter(f, KIND_CONSOLE)) {
        xnano_console_free(f->console);
        fic_freed(f);
    }
}

static uint64_t sg_count(xnano_sim *sim, const char *type)
{
    uint64_t n = 0;
    EXPECT_RESULT(xnano_sim_smartglass_message_count(sim, type, &n), XNANO_OK);
    return n;
}

static void free_in_callbacks(xnano_sim *sim, uint16_t tcp, uint16_t udp, const char *address,
                              int rounds)
{
    xnano_client_config cfg;
    abuse_client_config(&cfg);
    xnano_console_config ccfg;
    console_config(&ccfg);
    for (int kind = 0; kind < KIND_COUNT; kind++) {
        double t0 = now_s();
        int kept = 0, by_main = 0, closed_by_console = 0, text_sessions = 0;
        int in_state[5] = {0, 0, 0, 0, 0};
        double release_max = 0;
        for (int i = 0; i < rounds; i++) {
            int threads0 = thread_count();
            uint64_t disconnects0 = kind == KIND_CONSOLE ? sg_count(sim, "Disconnect") : 0;
            struct fic f;
            memset(&f, 0, sizeof f);
            f.kind = kind;
            atomic_init(&f.armed, 0);
            atomic_init(&f.claimed, 0);
            atomic_init(&f.freed, 0);
            atomic_init(&f.calls, 0);
            atomic_init(&f.late, 0);
            atomic_init(&f.snap, -1);
            atomic_init(&f.freed_in_state, -1);
            atomic_init(&f.ticks, 0);
            if (kind == KIND_CONSOLE) {
                if (xnano_console_new(&f.console) != XNANO_OK) {
                    EXPECT(0, "console_new");
                    return;
                }
                EXPECT_RESULT(xnano_console_set_event_callback(f.console, fic_console, &f),
                              XNANO_OK);
                EXPECT_RESULT(xnano_console_connect(f.console, address, &ccfg), XNANO_OK);
            } else {
                cfg.struct_size = sizeof cfg;
                if (xnano_client_new(&cfg, &f.client) != XNANO_OK) {
                    EXPECT(0, "client_new");
                    return;
                }
                EXPECT_RESULT(xnano_client_set_video_callback(f.client, fic_video, &f), XNANO_OK);
                EXPECT_RESULT(xnano_client_set_audio_callback(f.client, fic_audio, &f), XNANO_OK);
                EXPECT_RESULT(xnano_client_set_rumble_callback(f.client, fic_rumble, &f),
                              XNANO_OK);
                EXPECT_RESULT(xnano_client_set_state_callback(f.client, fic_state, &f), XNANO_OK);
                EXPECT_RESULT(xnano_client_connect_nano(f.client, "127.0.0.1", tcp, udp),
                              XNANO_OK);
            }
            /* From here on the main thread does not touch the handle: the
               callback frees it. */
            atomic_store(&f.armed, 1);
            if (kind == KIND_STATE && i % 2 == 1) {
                /* Half the state rounds: the console hangs up at once, so
                   the free may come with CLOSED. */
                EXPECT_RESULT(xnano_sim_close_client(sim), XNANO_OK);
            }
            WAIT_FOR(atomic_load(&f.freed), kind == KIND_STATE || kind == KIND_CONSOLE ? 3.0 : SLOW_S);
            if (!atomic_load(&f.freed) && kind == KIND_STATE) {
                /* The states came before the arming: make CLOSED come. */
                closed_by_console++;
                EXPECT_RESULT(xnano_sim_close_client(sim), XNANO_OK);
            }
            if (!atomic_load(&f.freed) && kind == KIND_CONSOLE) {
                /* Make the console say something (a text session). */
                uint32_t reached = 0;
                text_sessions++;
                EXPECT_RESULT(xnano_sim_start_text_session(sim, "abuse", &reached), XNANO_OK);
            }
            WAIT_FOR(atomic_load(&f.freed), SLOW_S);
            int expected = 0;
            if (atomic_compare_exchange_strong(&f.claimed, &expected, 1)) {
                /* No callback of that kind came: free it here. */
                EXPECT(0, "round %d: no %s callback to free the handle in", i, kind_names[kind]);
                by_main++;
                if (kind == KIND_CONSOLE) {
                    xnano_console_free(f.console);
                } else {
                    xnano_client_free(f.client);
                }
                continue;
            }
            WAIT_FOR(atomic_load(&f.freed), SLOW_S);
            if (kind == KIND_STATE) {
                int s = atomic_load(&f.freed_in_state);
                if (s >= 0 && s < 5) {
                    in_state[s]++;
                }
            }
            /* The library releases the handle on a thread of its own: wait
               until the console saw the client go and that thread (with
               the session's) is gone, so the leak check at exit sees
               nothing of it. */
            double r0 = now_s();
            if (kind == KIND_CONSOLE) {
                WAIT_FOR(sg_count(sim, "Disconnect") > disconnects0 && thread_count() <= threads0,
                         SLOW_S);
                EXPECT(sg_count(sim, "Disconnect") > disconnects0,
                       "round %d: the console freed in its callback never said goodbye", i);
            } else {
                WAIT_FOR(!sim_stats(sim).client_connected && thread_count() <= threads0, SLOW_S);
                EXPECT(!sim_stats(sim).client_connected,
                       "round %d: the client freed in its %s callback is still connected", i,
                       kind_names[kind]);
            }
            EXPECT(thread_count() <= threads0,
                   "round %d: %s: threads %d -> %d after the release", i, kind_names[kind],
                   threads0, thread_count());
            double rel = now_s() - r0;
            release_max = rel > release_max ? rel : release_max;
            sleep_ms(SETTLE_MS);
            long calls = atomic_load(&f.calls), snap = atomic_load(&f.snap);
            long late = atomic_load(&f.late);
            EXPECT(calls == snap && late == 0,
                   "round %d: freed in its %s callback: %ld callbacks after it (%ld late)", i,
                   kind_names[kind], calls - snap, late);
            kept += calls == snap && late == 0;
        }
        printf("6e free inside the %s callback: %d/%d rounds kept the promise and released the "
               "handle (longest release %.2f s)",
               kind_names[kind], kept, rounds, release_max);
        if (kind == KIND_STATE) {
            printf("; freed in connected %d, streaming %d, closed %d (%d rounds waited for the "
                   "console to hang up)",
                   in_state[XNANO_STATE_CONNECTED], in_state[XNANO_STATE_STREAMING],
                   in_state[XNANO_STATE_CLOSED], closed_by_console);
        }
        if (kind == KIND_CONSOLE) {
            printf("; %d rounds waited for a text session to be called back", text_sessions);
        }
        if (by_main) {
            printf("; %d freed by main", by_main);
        }
        printf(", %.1f s\n", now_s() - t0);
    }
}

/* --- 6f. STRUCT GROWTH: a caller built against an older, smaller header */

/* The first fields of xnano_client_config, as an older header had them. */
struct old_client_config {
    uint32_t struct_size;
    uint32_t video_width;
    uint32_t video_height;
    uint32_t video_codec;
    uint32_t audio_codec;
    uint32_t audio_channels;
    uint32_t audio_sample_rate;
    uint32_t connect_timeout_ms;
    uint32_t silence_timeout_ms;
};

/* The first fields of xnano_client_stats. */
struct old_client_stats {
    uint32_t struct_size;
    uint64_t frames_delivered;
    uint64_t frames_dropped;
    uint64_t frames_lost;
};

#define GUARD 64
#define GUARD_BYTE 0xA5

struct guarded_config {
    struct old_client_config c;
    unsigned char guard[GUARD];
};

struct guarded_stats {
    struct old_client_stats s;
    unsigned char guard[GUARD];
};

/* The old layouts are prefixes of the header's. */
_Static_assert(offsetof(struct old_client_config, silence_timeout_ms) ==
                   offsetof(xnano_client_config, silence_timeout_ms),
               "old config layout");
_Static_assert(offsetof(struct old_client_stats, frames_lost) ==
                   offsetof(xnano_client_stats, frames_lost),
               "old stats layout");

static int untouched(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != GUARD_BYTE) {
            return 0;
        }
    }
    return 1;
}

/* The end of the last field of xnano_client_config lying wholly inside n bytes. */
static size_t config_prefix(size_t n)
{
    /* Every field but the last two (bools) is a uint32_t. */
    size_t end = 0;
    for (size_t at = 0; at + 4 <= offsetof(xnano_client_config, chat_audio); at += 4) {
        if (at + 4 <= n) {
            end = at + 4;
        }
    }
    if (offsetof(xnano_client_config, chat_audio) + sizeof(bool) <= n) {
        end = offsetof(xnano_client_config, chat_audio) + sizeof(bool);
    }
    if (offsetof(xnano_client_config, wait_for_first_keyframe) + sizeof(bool) <= n) {
        end = offsetof(xnano_client_config, wait_for_first_keyframe) + sizeof(bool);
    }
    return end;
}

/* config_default into every size from 0 to past the struct: only whole
   fields inside struct_size are written, with the defaults. */
static void config_every_size(void)
{
    xnano_client_config full;
    abuse_client_config(&full);
    EXPECT_RESULT(xnano_client_config_default(&full), XNANO_OK);
    const size_t max = sizeof(xnano_client_config) + 8;
    unsigned char *buf = malloc(max + GUARD);
    for (size_t n = 0; n <= max; n++) {
        memset(buf, GUARD_BYTE, max + GUARD);
        uint32_t n32 = (uint32_t)n;
        memcpy(buf, &n32, sizeof n32);
        xnano_result r = xnano_client_config_default((xnano_client_config *)(void *)buf);
        uint32_t back;
        memcpy(&back, buf, sizeof back);
        if (n < 4) {
            EXPECT(r == XNANO_ERR_INVALID_ARGUMENT, "struct_size %zu: %s", n,
                   xnano_result_name(r));
            EXPECT(back == n32 && untouched(buf + 4, max + GUARD - 4),
                   "struct_size %zu: written although refused", n);
            continue;
        }
        EXPECT(r == XNANO_OK, "struct_size %zu: %s", n, xnano_result_name(r));
        size_t known = n < sizeof full ? n : sizeof full;
        size_t end = config_prefix(known);
        EXPECT(back == known, "struct_size %zu came back as %u, want %zu", n, back, known);
        EXPECT(memcmp(buf + 4, (const unsigned char *)&full + 4, end - 4) == 0,
               "struct_size %zu: the fields inside are not the defaults", n);
        EXPECT(untouched(buf + end, max + GUARD - end),
               "struct_size %zu: written past the last whole field (%zu)", n, end);
    }
    free(buf);
}

/* get_stats into every size on a live client: nothing written past the
   last whole field inside struct_size. */
static void stats_every_size(xnano_client *c)
{
    const size_t max = sizeof(xnano_client_stats) + 8;
    unsigned char *buf = malloc(max + GUARD);
    for (size_t n = 0; n <= max; n++) {
        memset(buf, GUARD_BYTE, max + GUARD);
        uint32_t n32 = (uint32_t)n;
        memcpy(buf, &n32, sizeof n32);
        xnano_result r = xnano_client_get_stats(c, (xnano_client_stats *)(void *)buf);
        uint32_t back;
        memcpy(&back, buf, sizeof back);
        if (n < 4) {
            EXPECT(r == XNANO_ERR_INVALID_ARGUMENT, "stats struct_size %zu: %s", n,
                   xnano_result_name(r));
            EXPECT(untouched(buf + 4, max + GUARD - 4), "stats struct_size %zu: written", n);
            continue;
        }
        EXPECT(r == XNANO_OK, "stats struct_size %zu: %s", n, xnano_result_name(r));
        size_t known = n < sizeof(xnano_client_stats) ? n : sizeof(xnano_client_stats);
        /* struct_size, then uint64_t fields from offset 8. */
        size_t end = known < 8 ? 4 : 8 + (known - 8) / 8 * 8;
        if (end == 8) {
            end = 4; /* only the padding after struct_size: nothing written */
        }
        EXPECT(back == known, "stats struct_size %zu came back as %u", n, back);
        EXPECT(untouched(buf + end, max + GUARD - end),
               "stats struct_size %zu: written past the last whole field (%zu)", n, end);
    }
    free(buf);
}

static void truncated_structs(uint16_t tcp, uint16_t udp, int rounds)
{
    double t0 = now_s();
    config_every_size();

    int streamed = 0;
    for (int i = 0; i < rounds; i++) {
        /* The truncated config, followed by guard bytes: config_default
           writes only inside it and says so. */
        struct guarded_config g;
        memset(&g, GUARD_BYTE, sizeof g);
        g.c.struct_size = sizeof g.c;
        EXPECT_RESULT(xnano_client_config_default((xnano_client_config *)(void *)&g.c), XNANO_OK);
        EXPECT(g.c.struct_size == sizeof g.c, "struct_size came back as %u, want %zu",
               g.c.struct_size, sizeof g.c);
        EXPECT(untouched(g.guard, sizeof g.guard), "config_default wrote past struct_size");
        EXPECT(g.c.video_width == XNANO_ANY && g.c.audio_sample_rate == XNANO_ANY &&
                   g.c.connect_timeout_ms == 5000 && g.c.silence_timeout_ms == 5000,
               "truncated defaults: width %u rate %u connect %u silence %u", g.c.video_width,
               g.c.audio_sample_rate, g.c.connect_timeout_ms, g.c.silence_timeout_ms);
        g.c.connect_timeout_ms = 30000; /* generous: valgrind */
        g.c.silence_timeout_ms = 30000;

        /* The same in a heap block of exactly its size: valgrind and ASan
           see any access past it. */
        struct old_client_config *h = malloc(sizeof *h);
        memcpy(h, &g.c, sizeof *h);
        h->struct_size = sizeof *h;
        EXPECT_RESULT(xnano_client_config_default((xnano_client_config *)(void *)h), XNANO_OK);
        EXPECT(h->struct_size == sizeof *h, "heap: struct_size %u", h->struct_size);
        h->connect_timeout_ms = 30000;
        h->silence_timeout_ms = 30000;
        h->video_width = (i % 2) ? 320 : XNANO_ANY;

        /* A client from the truncated config: the fields beyond it take
           their defaults (the guard's 0xA5 bytes would be a 2.7 G event
           queue: pull mode must stay off). */
        xnano_client *c = NULL;
        struct counter k;
        counter_init(&k);
        const xnano_client_config *from =
            (i % 2) ? (const xnano_client_config *)(const void *)h
                    : (const xnano_client_config *)(const void *)&g.c;
        EXPECT_RESULT(xnano_client_new(from, &c), XNANO_OK);
        EXPECT(untouched(g.guard, sizeof g.guard), "client_new wrote past struct_size");
        free(h);
        if (!c) {
            continue;
        }
        EXPECT_RESULT(xnano_client_set_video_callback(c, k_video, &k), XNANO_OK);
        EXPECT_RESULT(xnano_client_connect_nano(c, "127.0.0.1", tcp, udp), XNANO_OK);
        xnano_event *ev = NULL;
        EXPECT_RESULT(xnano_client_next_event(c, 0, &ev), XNANO_ERR_WRONG_STATE);
        WAIT_FOR(atomic_load(&k.frames) >= 3, SLOW_S);
        EXPECT(atomic_load(&k.frames) >= 3, "client from a truncated config: %ld frames",
               atomic_load(&k.frames));

        /* Stats into the truncated struct (guarded, and exactly sized). */
        struct guarded_stats gs;
        memset(&gs, GUARD_BYTE, sizeof gs);
        gs.s.struct_size = sizeof gs.s;
        EXPECT_RESULT(xnano_client_get_stats(c, (xnano_client_stats *)(void *)&gs.s), XNANO_OK);
        EXPECT(gs.s.struct_size == sizeof gs.s, "stats struct_size came back as %u, want %zu",
               gs.s.struct_size, sizeof gs.s);
        EXPECT(untouched(gs.guard, sizeof gs.guard), "get_stats wrote past struct_size");
        EXPECT(gs.s.frames_delivered >= 3 &&
                   gs.s.frames_delivered <= (uint64_t)atomic_load(&k.frames),
               "truncated stats: delivered %llu, callbacks %ld",
               (unsigned long long)gs.s.frames_delivered, atomic_load(&k.frames));
        struct old_client_stats *hs = malloc(sizeof *hs);
        hs->struct_size = sizeof *hs;
        EXPECT_RESULT(xnano_client_get_stats(c, (xnano_client_stats *)(void *)hs), XNANO_OK);
        EXPECT(hs->struct_size == sizeof *hs && hs->frames_delivered >= gs.s.frames_delivered,
               "heap stats: struct_size %u delivered %llu", hs->struct_size,
               (unsigned long long)hs->frames_delivered);
        free(hs);
        if (i == 0) {
            stats_every_size(c);
        }
        /* struct_size 0 (not set): refused, nothing written. */
        memset(&gs, GUARD_BYTE, sizeof gs);
        gs.s.struct_size = 0;
        EXPECT_RESULT(xnano_client_get_stats(c, (xnano_client_stats *)(void *)&gs.s),
                      XNANO_ERR_INVALID_ARGUMENT);
        EXPECT(gs.s.frames_delivered == 0xA5A5A5A5A5A5A5A5ull, "refused stats were written");
        EXPECT_RESULT(xnano_client_stop(c), XNANO_OK);
        xnano_client_free(c);
        streamed += atomic_load(&k.frames) >= 3;
    }

    /* struct_size 0 everywhere a caller-allocated struct goes in. */
    xnano_client_config z;
    memset(&z, 0, sizeof z);
    EXPECT_RESULT(xnano_client_config_default(&z), XNANO_ERR_INVALID_ARGUMENT);
    xnano_client *none = NULL;
    EXPECT_RESULT(xnano_client_new(&z, &none), XNANO_ERR_INVALID_ARGUMENT);
    EXPECT(none == NULL, "client_new wrote its output on failure");
    z.struct_size = 3;
    EXPECT_RESULT(xnano_client_new(&z, &none), XNANO_ERR_INVALID_ARGUMENT);
    xnano_sim_config sz;
    memset(&sz, 0, sizeof sz);
    EXPECT_RESULT(xnano_sim_config_default(&sz), XNANO_ERR_INVALID_ARGUMENT);
    xnano_console_config cz;
    memset(&cz, 0, sizeof cz);
    EXPECT_RESULT(xnano_console_config_default(&cz), XNANO_ERR_INVALID_ARGUMENT);
    printf("6f truncated structs: config_default at every struct_size 0..%zu, %d/%d clients "
           "from a %zu-byte config streamed (stats into %zu bytes), %.1f s\n",
           sizeof(xnano_client_config) + 8, streamed, rounds, sizeof(struct old_client_config),
           sizeof(struct old_client_stats), now_s() - t0);
}

/* Each library has its own thread-local last error: a failed xnano_sim_*
 * call sets xnano_sim_last_error() and leaves xnano_last_error() as it was,
 * and a failed xnano_* call leaves xnano_sim_last_error() alone. */
static void separate_last_errors(void)
{
    char sim_msg[1024], msg[1024];
    EXPECT_RESULT(xnano_sim_new(NULL, NULL), XNANO_ERR_NULL);
    snprintf(sim_msg, sizeof sim_msg, "%s", xnano_sim_last_error());
    EXPECT(sim_msg[0] != '\0', "a failed xnano_sim_new left xnano_sim_last_error() empty");
    EXPECT_RESULT(xnano_client_new(NULL, NULL), XNANO_ERR_NULL);
    snprintf(msg, sizeof msg, "%s", xnano_last_error());
    EXPECT(msg[0] != '\0', "a failed xnano_client_new left xnano_last_error() empty");
    EXPECT(strcmp(xnano_sim_last_error(), sim_msg) == 0,
           "a failed xnano_client_new changed xnano_sim_last_error() from \"%s\" to \"%s\"",
           sim_msg, xnano_sim_last_error());
    EXPECT_RESULT(xnano_sim_get_stats(NULL, NULL), XNANO_ERR_NULL);
    EXPECT(strcmp(xnano_last_error(), msg) == 0,
           "a failed xnano_sim_get_stats changed xnano_last_error() from \"%s\" to \"%s\"", msg,
           xnano_last_error());
}

int main(int argc, char **argv)
{
    /* First of all: the loaded libraries must speak the ABIs of these headers. */
    int abi = check_abis();
    if (abi != 0) {
        return abi;
    }
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    int nthreads = argc > 2 ? atoi(argv[2]) : 8;
    long pause_us = argc > 3 ? atol(argv[3]) : 0;
    int races = argc > 4 ? atoi(argv[4]) : 50;
    printf("abuse: xnano %s, ABI %u, xnano_sim ABI %u; %d cycles, %d threads, pause %ld us, "
           "%d race rounds\n",
           xnano_version(), (unsigned)xnano_abi_version(), (unsigned)xnano_sim_abi_version(), n,
           nthreads, pause_us, races);

    null_everywhere();
    separate_last_errors();
    printf("null / wrong state: done\n");

    xnano_sim_config sc;
    EXPECT_RESULT(sim_config(&sc, XNANO_SIM_VIDEO_SYNTHETIC, XNANO_SIM_AUDIO_PCM, true), XNANO_OK);
    xnano_sim *sim = start_sim(&sc);
    if (!sim) {
        return 1;
    }
    uint16_t tcp = 0, udp = 0, sg_port = 0;
    EXPECT_RESULT(xnano_sim_nano_ports(sim, &tcp, &udp), XNANO_OK);
    EXPECT_RESULT(xnano_sim_smartglass_port(sim, &sg_port), XNANO_OK);
    char address[64];
    snprintf(address, sizeof address, "127.0.0.1:%u", sg_port);

    from_callback(tcp, udp);
    printf("stop from a callback: done\n");
    cycles(tcp, udp, n);
    concurrency(tcp, udp, nthreads, pause_us);
    fflush(stdout);

    two_stops(tcp, udp, races);
    stop_vs_free(tcp, udp, races);
    disconnect_vs_connect(address, races);
    two_disconnects(address, races);
    fflush(stdout);
    free_in_callbacks(sim, tcp, udp, address, races);
    truncated_structs(tcp, udp, races < 4 ? races : races / 4);

    xnano_sim_free(sim);
    if (failures) {
        printf("abuse: %d FAILURES\n", failures);
        return 1;
    }
    printf("abuse: PASS\n");
    return 0;
}
