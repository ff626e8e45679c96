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

#include "common.h"

struct app {
    xnano_client *client;
    FILE *video_out;
    FILE *audio_out;
    struct stream_counts k; /* frames, audio packets, rumbles, state */
    atomic_ulong keyframes;
    atomic_ulong video_bytes;
    atomic_int last_rumble_right;
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
    if (atomic_fetch_add(&app->k.frames, 1) == 10) {
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
    atomic_fetch_add(&app->k.audio_packets, 1);
}

static void on_rumble(void *user_data, const xnano_rumble *rumble)
{
    struct app *app = user_data;
    atomic_fetch_add(&app->k.rumbles, 1);
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
    atomic_store(&app->k.state, (int)state);
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

int main(int argc, char **argv)
{
    struct example_args args = {5.0, ".", 0, 0};
    parse_args(argc, argv, 1, &args);
    double seconds = args.seconds;
    const char *outdir = args.outdir;
    int synthetic = args.synthetic;
    int pcm = args.pcm;

    /* First of all: the loaded libraries must speak the ABIs of these headers. */
    int abi = check_abis();
    if (abi != 0) {
        return abi;
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
    init_stream_counts(&app.k);
    atomic_init(&app.keyframes, 0);
    atomic_init(&app.video_bytes, 0);
    atomic_init(&app.last_rumble_right, -1);
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
    if (!check_sim(sim_config(&sim_cfg,
                              synthetic ? XNANO_SIM_VIDEO_SYNTHETIC : XNANO_SIM_VIDEO_TEST_PATTERN,
                              pcm ? XNANO_SIM_AUDIO_PCM : XNANO_SIM_AUDIO_OPUS,
                              false /* this example uses the direct Nano path */),
                   "sim_config_default")) {
        return 1;
    }
    sim_cfg.fps = 30;
    sim_cfg.bitrate_bps = 500000;
    sim_cfg.keyframe_interval = 30;
    xnano_sim *sim = start_sim(&sim_cfg);
    if (!sim) {
        return 1;
    }
    uint16_t tcp_port = 0, udp_port = 0;
    if (!check_sim(xnano_sim_nano_ports(sim, &tcp_port, &udp_port), "sim_nano_ports")) {
        return 1;
    }
    printf("simulated console on 127.0.0.1 tcp %u udp %u\n", tcp_port, udp_port);

    /* The client. */
    xnano_client_config cfg;
    if (!check(client_config(&cfg, 20000), "client_config_default")) {
        return 1;
    }
    if (!check(xnano_client_new(&cfg, &app.client), "client_new")) {
        return 1;
    }
    int ok = check(xnano_client_set_video_callback(app.client, on_video, &app), "video cb") &&
             check(xnano_client_set_audio_callback(app.client, on_audio, &app), "audio cb") &&
             check(xnano_client_set_rumble_callback(app.client, on_rumble, &app), "rumble cb") &&
             check(xnano_client_set_state_callback(app.client, on_state, &app), "state cb") &&
             check(xnano_client_connect_nano(app.client, "127.0.0.1", tcp_port, udp_port),
                   "connect_nano");

    /* Stream, sending input, until the frames, audio, rumble and an input
       ack arrived (common.h). */
    const unsigned long min_frames = 60; /* two keyframe intervals */
    double start = now_s();
    ok = ok && stream_until(app.client, &app.k, min_frames, seconds);
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

    unsigned long frames = atomic_load(&app.k.frames);
    unsigned long audio = atomic_load(&app.k.audio_packets);
    unsigned long rumbles = atomic_load(&app.k.rumbles);
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
