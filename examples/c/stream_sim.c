/*
 * stream_sim: the xnano C API end to end.
 *
 * Starts the simulated console, connects to it, streams for at least N
 * seconds and until 60 video frames, audio, a rumble answer and an input
 * ack have arrived (at most 120 s; video to OUTDIR/video.h264, audio
 * packets to OUTDIR/audio.raw), sends controller input, receives rumble,
 * prints statistics. Exits 0 only if those all arrived.
 *
 *   stream_sim [SECONDS] [OUTDIR] [--synthetic] [--pcm]
 *
 * --synthetic makes the console send synthetic (non-H.264) frames, which
 * are cheap to produce (e.g. under valgrind); the default is a real H.264
 * test pattern. --pcm makes it send PCM audio instead of Opus (the pure-Rust
 * Opus encoder of the simulated console is slow under valgrind).
 *
 * The simulated console is libxnano_sim (sim/include/xnano_sim.h), a
 * library of its own: build with -Iinclude -Isim/include and link
 * -lxnano -lxnano_sim (examples/c/Makefile). A program that ships links
 * only libxnano.
 *
 * ABI 1: it refuses to run against a libxnano or a libxnano_sim of another
 * ABI version, and sets struct_size to sizeof before every call that takes
 * a caller-allocated struct (configs, stats, controller state). A failed
 * xnano_sim_* call is described by xnano_sim_last_error(), a failed xnano_*
 * call by xnano_last_error(): each library has its own.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xnano.h"
#include "xnano_sim.h"

struct app {
    xnano_client *client;
    FILE *video_out;
    FILE *audio_out;
    atomic_ulong frames;
    atomic_ulong keyframes;
    atomic_ulong video_bytes;
    atomic_ulong audio_packets;
    atomic_ulong rumbles;
    atomic_int last_rumble_right;
    atomic_int state;
    atomic_int closed_error;
    atomic_int stop_from_callback; /* result of xnano_client_stop inside a callback */
    unsigned width, height;
};

static void on_video(void *user_data, const xnano_video_frame *frame)
{
    struct app *app = user_data;
    if (frame->len > 0 && fwrite(frame->data, 1, frame->len, app->video_out) != frame->len) {
        fprintf(stderr, "video write failed\n");
    }
    app->width = frame->width;
    app->height = frame->height;
    atomic_fetch_add(&app->video_bytes, frame->len);
    if (frame->keyframe) {
        atomic_fetch_add(&app->keyframes, 1);
    }
    if (atomic_fetch_add(&app->frames, 1) == 10) {
        /* Stopping the client from its own callback is refused, not a deadlock. */
        atomic_store(&app->stop_from_callback, (int)xnano_client_stop(app->client));
        /* Calling back in is fine. */
        xnano_client_request_keyframe(app->client);
    }
}

static void on_audio(void *user_data, const xnano_audio_packet *packet)
{
    struct app *app = user_data;
    if (packet->len > 0 && fwrite(packet->data, 1, packet->len, app->audio_out) != packet->len) {
        fprintf(stderr, "audio write failed\n");
    }
    atomic_fetch_add(&app->audio_packets, 1);
}

static void on_rumble(void *user_data, const xnano_rumble *rumble)
{
    struct app *app = user_data;
    atomic_fetch_add(&app->rumbles, 1);
    atomic_store(&app->last_rumble_right, rumble->right_trigger);
}

static const char *state_name(xnano_state s)
{
    switch (s) {
    case XNANO_STATE_IDLE: return "idle";
    case XNANO_STATE_CONNECTING: return "connecting";
    case XNANO_STATE_CONNECTED: return "connected";
    case XNANO_STATE_STREAMING: return "streaming";
    case XNANO_STATE_CLOSED: return "closed";
    }
    return "?";
}

static void on_state(void *user_data, xnano_state state, xnano_result error, const char *message)
{
    struct app *app = user_data;
    atomic_store(&app->state, (int)state);
    if (state == XNANO_STATE_CLOSED) {
        atomic_store(&app->closed_error, (int)error);
    }
    fprintf(stderr, "state: %s (%s) %s\n", state_name(state), xnano_result_name(error),
            message);
}

static void on_log(void *user_data, xnano_log_level level, const char *target, const char *message)
{
    (void)user_data;
    if (level <= XNANO_LOG_WARN) {
        fprintf(stderr, "log %d %s: %s\n", (int)level, target, message);
    }
}

static int check(xnano_result r, const char *what)
{
    if (r != XNANO_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, xnano_result_name(r), xnano_last_error());
        return 0;
    }
    return 1;
}

/* The same for the simulated console's calls (libxnano_sim's own message). */
static int check_sim(xnano_result r, const char *what)
{
    if (r != XNANO_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, xnano_result_name(r), xnano_sim_last_error());
        return 0;
    }
    return 1;
}

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

int main(int argc, char **argv)
{
    double seconds = 5.0;
    const char *outdir = ".";
    int synthetic = 0;
    int pcm = 0;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--synthetic") == 0) {
            synthetic = 1;
        } else if (strcmp(argv[i], "--pcm") == 0) {
            pcm = 1;
        } else if (positional == 0) {
            seconds = atof(argv[i]);
            positional++;
        } else {
            outdir = argv[i];
            positional++;
        }
    }

    /* First of all: the loaded libraries must speak the ABIs of these headers. */
    if (xnano_abi_version() != XNANO_ABI_VERSION) {
        fprintf(stderr,
                "xnano ABI mismatch: built against ABI %u (xnano.h), but the loaded library "
                "has ABI %u: rebuild this program against the library's header\n",
                (unsigned)XNANO_ABI_VERSION, (unsigned)xnano_abi_version());
        return 2;
    }
    if (xnano_sim_abi_version() != XNANO_SIM_ABI_VERSION) {
        fprintf(stderr,
                "xnano_sim ABI mismatch: built against ABI %u (xnano_sim.h), but the loaded "
                "libxnano_sim has ABI %u: rebuild this program against the library's header\n",
                (unsigned)XNANO_SIM_ABI_VERSION, (unsigned)xnano_sim_abi_version());
        return 2;
    }
    if (strcmp(xnano_version(), XNANO_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", XNANO_VERSION_STRING, xnano_version());
        return 1;
    }
    printf("xnano %s (ABI %u), xnano_sim ABI %u\n", xnano_version(), (unsigned)xnano_abi_version(),
           (unsigned)xnano_sim_abi_version());
    if (!check(xnano_set_log_callback(on_log, NULL, XNANO_LOG_WARN), "set_log_callback")) {
        return 1;
    }

    struct app app;
    memset(&app, 0, sizeof app);
    atomic_init(&app.frames, 0);
    atomic_init(&app.keyframes, 0);
    atomic_init(&app.video_bytes, 0);
    atomic_init(&app.audio_packets, 0);
    atomic_init(&app.rumbles, 0);
    atomic_init(&app.last_rumble_right, -1);
    atomic_init(&app.state, XNANO_STATE_IDLE);
    atomic_init(&app.closed_error, XNANO_OK);
    atomic_init(&app.stop_from_callback, -1);

    char path[4096];
    snprintf(path, sizeof path, "%s/video.h264", outdir);
    app.video_out = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/audio.raw", outdir);
    app.audio_out = fopen(path, "wb");
    if (!app.video_out || !app.audio_out) {
        perror("open output");
        return 1;
    }

    /* The simulated console: small H.264 test pattern, Opus audio. */
    xnano_sim_config sim_cfg;
    xnano_sim *sim = NULL;
    memset(&sim_cfg, 0, sizeof sim_cfg);
    sim_cfg.struct_size = sizeof sim_cfg;
    if (!check_sim(xnano_sim_config_default(&sim_cfg), "sim_config_default")) {
        return 1;
    }
    sim_cfg.width = 320;
    sim_cfg.height = 240;
    sim_cfg.fps = 30;
    sim_cfg.bitrate_bps = 500000;
    sim_cfg.keyframe_interval = 30;
    sim_cfg.video_source = synthetic ? XNANO_SIM_VIDEO_SYNTHETIC : XNANO_SIM_VIDEO_TEST_PATTERN;
    sim_cfg.audio_source = pcm ? XNANO_SIM_AUDIO_PCM : XNANO_SIM_AUDIO_OPUS;
    sim_cfg.smartglass = false; /* this example uses the direct Nano path */
    sim_cfg.struct_size = sizeof sim_cfg;
    if (!check_sim(xnano_sim_new(&sim_cfg, &sim), "sim_new")) {
        return 1;
    }
    uint16_t tcp_port = 0, udp_port = 0;
    if (!check_sim(xnano_sim_nano_ports(sim, &tcp_port, &udp_port), "sim_nano_ports")) {
        return 1;
    }
    printf("simulated console on 127.0.0.1 tcp %u udp %u\n", tcp_port, udp_port);

    /* The client. */
    xnano_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    if (!check(xnano_client_config_default(&cfg), "client_config_default")) {
        return 1;
    }
    cfg.silence_timeout_ms = 20000; /* generous: valgrind is slow */
    cfg.connect_timeout_ms = 20000;
    cfg.struct_size = sizeof cfg;
    if (!check(xnano_client_new(&cfg, &app.client), "client_new")) {
        return 1;
    }
    int ok = check(xnano_client_set_video_callback(app.client, on_video, &app), "video cb") &&
             check(xnano_client_set_audio_callback(app.client, on_audio, &app), "audio cb") &&
             check(xnano_client_set_rumble_callback(app.client, on_rumble, &app), "rumble cb") &&
             check(xnano_client_set_state_callback(app.client, on_state, &app), "state cb") &&
             check(xnano_client_connect_nano(app.client, "127.0.0.1", tcp_port, udp_port),
                   "connect_nano");

    /* Stream; press and release A with changing triggers every 100 ms.
       The run is judged on conditions, not on a rate: it goes on for at
       least SECONDS and until MIN_FRAMES frames, some audio, a rumble
       answer and an input ack have arrived, or until a generous deadline
       (under valgrind one thread runs at a time and the encoding console
       can starve the client for long stretches). */
    const unsigned long min_frames = 60; /* two keyframe intervals */
    const double deadline = 120.0;
    double start = now_s();
    unsigned tick = 0;
    for (;;) {
        if (!ok) {
            break;
        }
        sleep_ms(20);
        int st = atomic_load(&app.state);
        if (st == XNANO_STATE_CLOSED) {
            fprintf(stderr, "session closed early\n");
            ok = 0;
            break;
        }
        if (++tick % 5 == 0 && st >= XNANO_STATE_CONNECTED) {
            xnano_controller_state pad;
            memset(&pad, 0, sizeof pad);
            pad.struct_size = sizeof pad;
            pad.buttons = (tick / 5) % 2 ? XNANO_BUTTON_A : 0;
            pad.right_trigger = (uint8_t)(tick % 256);
            pad.left_thumb_x = -1000;
            xnano_result r = xnano_client_set_controller_state(app.client, 0, &pad);
            if (r != XNANO_OK) {
                check(r, "set_controller_state");
            }
        }
        double t = now_s() - start;
        if (t < seconds) {
            continue;
        }
        xnano_client_stats live;
        memset(&live, 0, sizeof live);
        live.struct_size = sizeof live;
        int have_stats = xnano_client_get_stats(app.client, &live) == XNANO_OK;
        int done = atomic_load(&app.frames) >= min_frames &&
                   atomic_load(&app.audio_packets) > 0 && atomic_load(&app.rumbles) > 0 &&
                   have_stats && live.input_frames_acked > 0;
        if (done) {
            break;
        }
        if (t >= deadline) {
            fprintf(stderr,
                    "deadline: %.0f s without %lu frames, audio, rumble and an input ack "
                    "(have %lu frames, %lu audio, %lu rumble, %llu acked)\n",
                    deadline, min_frames, atomic_load(&app.frames),
                    atomic_load(&app.audio_packets), atomic_load(&app.rumbles),
                    (unsigned long long)live.input_frames_acked);
            break;
        }
    }
    double elapsed = now_s() - start;

    xnano_client_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    ok = check(xnano_client_stop(app.client), "client_stop") && ok;
    ok = check(xnano_client_get_stats(app.client, &stats), "client_get_stats") && ok;
    xnano_sim_stats sstats;
    memset(&sstats, 0, sizeof sstats);
    sstats.struct_size = sizeof sstats;
    ok = check_sim(xnano_sim_get_stats(sim, &sstats), "sim_get_stats") && ok;
    xnano_client_free(app.client); /* void: never fails */
    app.client = NULL;
    xnano_sim_free(sim);
    xnano_set_log_callback(NULL, NULL, XNANO_LOG_OFF);
    fclose(app.video_out);
    fclose(app.audio_out);

    unsigned long frames = atomic_load(&app.frames);
    unsigned long audio = atomic_load(&app.audio_packets);
    unsigned long rumbles = atomic_load(&app.rumbles);
    printf("streamed %.1f s: %lu frames (%lu keyframes, %ux%u, %.2f Mbit/s), %lu audio packets, "
           "%lu rumble (last right motor %d)\n",
           elapsed, frames, atomic_load(&app.keyframes), app.width, app.height,
           (double)atomic_load(&app.video_bytes) * 8.0 / elapsed / 1e6, audio, rumbles,
           atomic_load(&app.last_rumble_right));
    printf("client stats: delivered %llu lost %llu dropped %llu keyframe_requests %llu "
           "input sent %llu acked %llu rumble %llu udp %llu\n",
           (unsigned long long)stats.frames_delivered, (unsigned long long)stats.frames_lost,
           (unsigned long long)stats.frames_dropped, (unsigned long long)stats.keyframe_requests,
           (unsigned long long)stats.input_frames_sent, (unsigned long long)stats.input_frames_acked,
           (unsigned long long)stats.rumble_events, (unsigned long long)stats.udp_packets);
    printf("console stats: frames %llu audio %llu input received %llu rumble sent %llu\n",
           (unsigned long long)sstats.video_frames_sent,
           (unsigned long long)sstats.audio_packets_sent,
           (unsigned long long)sstats.input_frames_received,
           (unsigned long long)sstats.rumble_sent);
    printf("stop from own callback: %s\n",
           xnano_result_name(atomic_load(&app.stop_from_callback)));

    int pass = ok && frames >= min_frames && audio > 0 && rumbles > 0 && stats.input_frames_acked > 0 &&
               stats.frames_delivered == frames &&
               atomic_load(&app.stop_from_callback) == XNANO_ERR_FROM_CALLBACK &&
               atomic_load(&app.closed_error) == XNANO_OK;
    printf("%s\n", pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
}
