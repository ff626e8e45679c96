/*
 * console_sim: the SmartGlass path of the xnano C API end to end.
 *
 * Starts the simulated console, discovers it, connects over SmartGlass,
 * sends commands (title launch, media, gamepad, text entry, game DVR,
 * unsnap), starts a gamestream through the console and streams for at
 * least N seconds and until 30 frames, audio, rumble and an input ack
 * have arrived (at most 120 s; video to OUTDIR/sg_video.h264), stops
 * it, powers the console off and on again, and prints what happened.
 * Exits 0 only if every step did what it should.
 *
 *   console_sim [SECONDS] [OUTDIR] [--synthetic]
 *
 * --synthetic makes the console send synthetic (non-H.264) frames, which
 * are cheap to produce (e.g. under valgrind).
 *
 * The simulated console is libxnano_sim (sim/include/xnano_sim.h), a
 * library of its own: build with -Iinclude -Isim/include and link
 * -lxnano -lxnano_sim (examples/c/Makefile). A program that ships links
 * only libxnano.
 *
 * ABI 1: it refuses to run against a libxnano or a libxnano_sim of another
 * ABI version, and sets struct_size to sizeof before every call that takes
 * a caller-allocated struct (configs, stats, console info, gamepad and
 * controller states). A failed xnano_sim_* call is described by
 * xnano_sim_last_error(), a failed xnano_* call by xnano_last_error():
 * each library has its own.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct app {
    xnano_console *console;
    xnano_client *client;
    FILE *video_out;
    /* Console events. */
    atomic_int connected;
    atomic_int closed;
    atomic_int closed_error;
    atomic_int media_title;
    atomic_int media_status;
    atomic_int text_session;
    atomic_int gamestream_started;
    atomic_int launch_from_callback;     /* xnano_console_launch_title inside the callback */
    atomic_int disconnect_from_callback; /* xnano_console_disconnect inside the callback */
    /* Stream callbacks: frames, audio packets, rumbles, state. */
    struct stream_counts k;
};

static const char *event_name(xnano_console_event_type k)
{
    switch (k) {
    case XNANO_CONSOLE_EVENT_CONNECTED: return "connected";
    case XNANO_CONSOLE_EVENT_CLOSED: return "closed";
    case XNANO_CONSOLE_EVENT_CONSOLE_STATUS: return "console status";
    case XNANO_CONSOLE_EVENT_MEDIA_STATE: return "media state";
    case XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION: return "text configuration";
    case XNANO_CONSOLE_EVENT_TEXT_INPUT: return "text input";
    case XNANO_CONSOLE_EVENT_TEXT_DONE: return "text done";
    case XNANO_CONSOLE_EVENT_CHANNEL_STARTED: return "channel started";
    case XNANO_CONSOLE_EVENT_CHANNEL_FAILED: return "channel failed";
    case XNANO_CONSOLE_EVENT_GAMESTREAM_STATE: return "gamestream state";
    case XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED: return "gamestream connected";
    case XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED: return "gamestream failed";
    case XNANO_CONSOLE_EVENT_OTHER: return "other";
    }
    return "?";
}

static void on_console_event(void *user_data, const xnano_console_event *ev)
{
    struct app *app = user_data;
    if (ev->kind != XNANO_CONSOLE_EVENT_OTHER) {
        fprintf(stderr, "console: %s: %s\n", event_name(ev->kind), ev->message);
    }
    switch (ev->kind) {
    case XNANO_CONSOLE_EVENT_CONNECTED:
        atomic_store(&app->connected, 1);
        /* Commands from inside the callback are fine... */
        atomic_store(&app->launch_from_callback,
                     (int)xnano_console_launch_title(app->console, "ms-xbl-example://start",
                                                     XNANO_TITLE_LOCATION_FULL));
        /* ...disconnecting the console from its own callback is refused. */
        atomic_store(&app->disconnect_from_callback, (int)xnano_console_disconnect(app->console));
        break;
    case XNANO_CONSOLE_EVENT_CLOSED:
        atomic_store(&app->closed_error, (int)ev->error);
        atomic_store(&app->closed, 1);
        break;
    case XNANO_CONSOLE_EVENT_MEDIA_STATE:
        atomic_store(&app->media_title, (int)ev->title_id);
        atomic_store(&app->media_status, (int)ev->playback_status);
        break;
    case XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION:
        fprintf(stderr, "console asks for text: \"%s\" (session %u)\n", ev->text,
                ev->text_session_id);
        atomic_store(&app->text_session, (int)ev->text_session_id);
        break;
    case XNANO_CONSOLE_EVENT_GAMESTREAM_STATE:
        if (ev->gamestream_state == XNANO_GAMESTREAM_STARTED) {
            atomic_store(&app->gamestream_started, 1);
        }
        break;
    default:
        break;
    }
}

static void on_video(void *user_data, const xnano_video_frame *frame)
{
    struct app *app = user_data;
    if (frame->len > 0 && fwrite(frame->data, 1, frame->len, app->video_out) != frame->len) {
        fprintf(stderr, "video write failed\n");
    }
    atomic_fetch_add(&app->k.frames, 1);
}

static void on_audio(void *user_data, const xnano_audio_packet *packet)
{
    struct app *app = user_data;
    (void)packet;
    atomic_fetch_add(&app->k.audio_packets, 1);
}

static void on_rumble(void *user_data, const xnano_rumble *rumble)
{
    struct app *app = user_data;
    (void)rumble;
    atomic_fetch_add(&app->k.rumbles, 1);
}

static void on_state(void *user_data, xnano_state state, xnano_result error, const char *message)
{
    struct app *app = user_data;
    atomic_store(&app->k.state, (int)state);
    fprintf(stderr, "stream state %d (%s) %s\n", (int)state, xnano_result_name(error),
            message);
}

static uint64_t sim_messages(xnano_sim *sim, const char *type)
{
    uint64_t n = 0;
    check_sim(xnano_sim_smartglass_message_count(sim, type, &n), type);
    return n;
}

/* Discovers the console at `address`; copies the first one into `out`. */
static int discover_one(const char *address, xnano_console_info *out, size_t *count)
{
    xnano_discovery *d = NULL;
    if (!check(xnano_discover(address, 5000, &d), "discover")) {
        return 0;
    }
    int ok = check(xnano_discovery_count(d, count), "discovery_count");
    if (ok && *count > 0) {
        memset(out, 0, sizeof *out);
        out->struct_size = sizeof *out;
        ok = check(xnano_discovery_get(d, 0, out), "discovery_get");
    }
    xnano_discovery_free(d);
    return ok;
}

int main(int argc, char **argv)
{
    struct example_args args = {3.0, ".", 0, 0};
    parse_args(argc, argv, 0, &args);
    double seconds = args.seconds;
    const char *outdir = args.outdir;
    int synthetic = args.synthetic;
    /* First of all: the loaded libraries must speak the ABIs of these headers. */
    int abi = check_abis();
    if (abi != 0) {
        return abi;
    }
    printf("xnano %s (ABI %u), xnano_sim ABI %u\n", xnano_version(), (unsigned)xnano_abi_version(),
           (unsigned)xnano_sim_abi_version());

    struct app app;
    memset(&app, 0, sizeof app);
    atomic_init(&app.connected, 0);
    atomic_init(&app.closed, 0);
    atomic_init(&app.closed_error, -1);
    atomic_init(&app.media_title, 0);
    atomic_init(&app.media_status, -1);
    atomic_init(&app.text_session, 0);
    atomic_init(&app.gamestream_started, 0);
    atomic_init(&app.launch_from_callback, -1);
    atomic_init(&app.disconnect_from_callback, -1);
    init_stream_counts(&app.k);

    char path[4096];
    snprintf(path, sizeof path, "%s/sg_video.h264", outdir);
    app.video_out = fopen(path, "wb");
    if (!app.video_out) {
        perror("open output");
        return 1;
    }

    /* The simulated console, with its SmartGlass side. */
    xnano_sim_config sim_cfg;
    if (!check_sim(sim_config(&sim_cfg,
                              synthetic ? XNANO_SIM_VIDEO_SYNTHETIC : XNANO_SIM_VIDEO_TEST_PATTERN,
                              XNANO_SIM_AUDIO_PCM, true),
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
    char address[64];
    if (!sim_smartglass_address(sim, address, sizeof address)) {
        return 1;
    }

    /* 1. Discovery. */
    xnano_console_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    size_t found = 0;
    int ok = discover_one(address, &info, &found) && found == 1;
    if (ok) {
        printf("found \"%s\" live id %s at %s, uuid %s, %s anonymous\n", info.name, info.live_id,
               info.address, info.uuid,
               (info.flags & XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS) ? "allows" : "refuses");
    }

    /* 2. The SmartGlass session. */
    xnano_console_config ccfg;
    memset(&ccfg, 0, sizeof ccfg);
    ccfg.struct_size = sizeof ccfg;
    ok = ok && check(xnano_console_config_default(&ccfg), "console_config_default");
    ccfg.wait_timeout_ms = 30000; /* generous: valgrind is slow */
    ccfg.discovery_timeout_ms = 10000;
    ccfg.struct_size = sizeof ccfg;
    ok = ok && check(xnano_console_new(&app.console), "console_new") &&
         check(xnano_console_set_event_callback(app.console, on_console_event, &app),
               "console_set_event_callback") &&
         check(xnano_console_connect(app.console, info.address, &ccfg), "console_connect");
    /* CONNECTED was delivered before connect returned. */
    ok = ok && atomic_load(&app.connected) == 1;

    /* 3. Commands. */
    ok = ok && wait_flag(&app.media_title, 20);
    if (ok) {
        uint64_t request = 0;
        ok = check(xnano_console_media_command(app.console, (uint32_t)atomic_load(&app.media_title),
                                               XNANO_MEDIA_PAUSE, 0, &request),
                   "media_command");
        WAIT_FOR_EVERY(!ok || atomic_load(&app.media_status) == 4, 20, 10);
        ok = ok && atomic_load(&app.media_status) == 4; /* paused */
        printf("media paused (request %llu)\n", (unsigned long long)request);
    }
    xnano_gamepad pad;
    memset(&pad, 0, sizeof pad);
    pad.struct_size = sizeof pad;
    pad.buttons = XNANO_GAMEPAD_A;
    pad.right_trigger = 0.25f;
    ok = ok && check(xnano_console_gamepad(app.console, &pad), "gamepad") &&
         check(xnano_console_game_dvr_record(app.console, -30, 0), "game_dvr_record") &&
         check(xnano_console_unsnap(app.console), "unsnap");
    /* Text entry: the console asks, we type and accept. */
    uint32_t reached = 0;
    double text_end = now_s() + 20;
    while (ok && reached == 0 && now_s() < text_end) {
        ok = check_sim(xnano_sim_start_text_session(sim, "Your name?", &reached), "start_text");
        if (reached == 0) {
            sleep_ms(50);
        }
    }
    ok = ok && wait_flag(&app.text_session, 20) &&
         check(xnano_console_send_text(app.console, "xnano"), "send_text") &&
         check(xnano_console_text_done(app.console, XNANO_TEXT_RESULT_ACCEPT), "text_done");

    /* 4. A gamestream through the console, delivered to an ordinary client. */
    xnano_gamestream_config *gs = NULL;
    ok = ok && check(xnano_gamestream_config_new(&gs), "gamestream_config_new") &&
         check(xnano_gamestream_config_set(gs, "videoMaximumWidth", "320"), "gs set width") &&
         check(xnano_gamestream_config_set(gs, "videoMaximumHeight", "240"), "gs set height");
    xnano_client_config cfg;
    ok = ok && check(client_config(&cfg, 20000), "client_config_default");
    ok = ok && check(xnano_client_new(&cfg, &app.client), "client_new") &&
         check(xnano_client_set_video_callback(app.client, on_video, &app), "video cb") &&
         check(xnano_client_set_audio_callback(app.client, on_audio, &app), "audio cb") &&
         check(xnano_client_set_rumble_callback(app.client, on_rumble, &app), "rumble cb") &&
         check(xnano_client_set_state_callback(app.client, on_state, &app), "state cb") &&
         check(xnano_client_connect_console(app.client, app.console, gs), "connect_console");
    xnano_gamestream_config_free(gs);

    /* Stream, sending input, until the frames, audio, rumble and an input
       ack arrived (common.h). */
    const unsigned long min_frames = 30;
    ok = ok && stream_until(app.client, &app.k, min_frames, seconds);
    xnano_client_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    if (app.client) {
        ok = check(xnano_client_stop(app.client), "client_stop") && ok;
        ok = check(xnano_client_get_stats(app.client, &stats), "client_get_stats") && ok;
    }
    /* Stopping the client told the console to stop streaming. */
    xnano_sim_stats sstats;
    memset(&sstats, 0, sizeof sstats);
    double stop_end = now_s() + 20;
    do {
        sleep_ms(20);
        sstats.struct_size = sizeof sstats;
        ok = check_sim(xnano_sim_get_stats(sim, &sstats), "sim_get_stats") && ok;
    } while (ok && sstats.sg_gamestreams_stopped == 0 && now_s() < stop_end);

    /* 5. Power off over SmartGlass (the console hangs up), then power on. */
    ok = ok && check(xnano_console_power_off(app.console), "power_off") &&
         wait_flag(&app.closed, 20) && atomic_load(&app.closed_error) == XNANO_ERR_CLOSED;
    bool on = true;
    ok = ok && check_sim(xnano_sim_smartglass_powered_on(sim, &on), "powered_on") && !on;
    ok = ok && check(xnano_power_on(info.live_id, info.address, 0), "power_on");
    double on_end = now_s() + 20;
    while (ok && !on && now_s() < on_end) {
        sleep_ms(20);
        ok = check_sim(xnano_sim_smartglass_powered_on(sim, &on), "powered_on");
    }
    found = 0;
    ok = ok && on && discover_one(address, &info, &found) && found == 1;
    sstats.struct_size = sizeof sstats;
    ok = check_sim(xnano_sim_get_stats(sim, &sstats), "sim_get_stats") && ok;

    unsigned long frames = atomic_load(&app.k.frames);
    unsigned long audio = atomic_load(&app.k.audio_packets);
    unsigned long rumbles = atomic_load(&app.k.rumbles);
    printf("gamestream over SmartGlass: %lu frames, %lu audio packets, %lu rumble, "
           "input acked %llu\n",
           frames, audio, rumbles, (unsigned long long)stats.input_frames_acked);
    printf("console received: TitleLaunch %llu MediaCommand %llu Gamepad %llu "
           "SystemTextInput %llu SystemTextDone %llu GameDvrRecord %llu Unsnap %llu PowerOff %llu\n",
           (unsigned long long)sim_messages(sim, "TitleLaunch"),
           (unsigned long long)sim_messages(sim, "MediaCommand"),
           (unsigned long long)sim_messages(sim, "Gamepad"),
           (unsigned long long)sim_messages(sim, "SystemTextInput"),
           (unsigned long long)sim_messages(sim, "SystemTextDone"),
           (unsigned long long)sim_messages(sim, "GameDvrRecord"),
           (unsigned long long)sim_messages(sim, "Unsnap"),
           (unsigned long long)sim_messages(sim, "PowerOff"));
    printf("console stats: connects %llu gamestreams started %llu stopped %llu power-on %llu\n",
           (unsigned long long)sstats.sg_connects_accepted,
           (unsigned long long)sstats.sg_gamestreams_started,
           (unsigned long long)sstats.sg_gamestreams_stopped,
           (unsigned long long)sstats.sg_power_on_requests);
    printf("from the console callback: launch %s, disconnect %s\n",
           xnano_result_name(atomic_load(&app.launch_from_callback)),
           xnano_result_name(atomic_load(&app.disconnect_from_callback)));

    int pass = ok && frames >= min_frames && audio > 0 && rumbles > 0 &&
               stats.input_frames_acked > 0 && stats.frames_delivered == frames &&
               atomic_load(&app.gamestream_started) == 1 && sstats.sg_power_on_requests > 0 &&
               sstats.sg_gamestreams_started == 1 && sstats.sg_gamestreams_stopped == 1 &&
               atomic_load(&app.launch_from_callback) == XNANO_OK &&
               atomic_load(&app.disconnect_from_callback) == XNANO_ERR_FROM_CALLBACK &&
               sim_messages(sim, "TitleLaunch") == 1 && sim_messages(sim, "MediaCommand") == 1 &&
               sim_messages(sim, "Gamepad") == 1 && sim_messages(sim, "SystemTextInput") == 1 &&
               sim_messages(sim, "SystemTextDone") == 1 &&
               sim_messages(sim, "GameDvrRecord") == 1 && sim_messages(sim, "Unsnap") == 1 &&
               sim_messages(sim, "PowerOff") == 1;

    /* void: frees never fail. */
    xnano_client_free(app.client);
    xnano_console_free(app.console);
    xnano_sim_free(sim);
    fclose(app.video_out);

    pass = pass && ok;
    printf("%s\n", pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
}
