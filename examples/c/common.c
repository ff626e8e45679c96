/* What the C examples share: see common.h. */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void parse_args(int argc, char **argv, int with_pcm, struct example_args *args)
{
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--synthetic") == 0) {
            args->synthetic = 1;
        } else if (with_pcm && strcmp(argv[i], "--pcm") == 0) {
            args->pcm = 1;
        } else if (positional == 0) {
            args->seconds = atof(argv[i]);
            positional++;
        } else {
            args->outdir = argv[i];
            positional++;
        }
    }
}

int check_abis(void)
{
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
    return 0;
}

static int check_with(xnano_result r, const char *what, const char *(*last_error)(void))
{
    if (r != XNANO_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, xnano_result_name(r), last_error());
        return 0;
    }
    return 1;
}

int check(xnano_result r, const char *what)
{
    return check_with(r, what, xnano_last_error);
}

int check_sim(xnano_result r, const char *what)
{
    return check_with(r, what, xnano_sim_last_error);
}

void sleep_us(long us)
{
    struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
    nanosleep(&ts, NULL);
}

void sleep_ms(long ms)
{
    sleep_us(ms * 1000L);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int wait_flag(atomic_int *flag, double seconds)
{
    WAIT_FOR_EVERY(atomic_load(flag) != 0, seconds, 10);
    return atomic_load(flag) != 0;
}

xnano_result sim_config(xnano_sim_config *cfg, uint32_t video_source, uint32_t audio_source,
                        bool smartglass)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    xnano_result r = xnano_sim_config_default(cfg);
    cfg->width = 320;
    cfg->height = 240;
    cfg->video_source = video_source;
    cfg->audio_source = audio_source;
    cfg->smartglass = smartglass;
    cfg->struct_size = sizeof *cfg;
    return r;
}

xnano_sim *start_sim(xnano_sim_config *cfg)
{
    xnano_sim *sim = NULL;
    cfg->struct_size = sizeof *cfg;
    if (!check_sim(xnano_sim_new(cfg, &sim), "sim_new")) {
        return NULL;
    }
    return sim;
}

int sim_smartglass_address(xnano_sim *sim, char *buf, size_t size)
{
    uint16_t port = 0;
    if (!check_sim(xnano_sim_smartglass_port(sim, &port), "sim_smartglass_port")) {
        return 0;
    }
    snprintf(buf, size, "127.0.0.1:%u", port);
    return 1;
}

xnano_result client_config(xnano_client_config *cfg, uint32_t timeout_ms)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->struct_size = sizeof *cfg;
    xnano_result r = xnano_client_config_default(cfg);
    cfg->connect_timeout_ms = timeout_ms;
    cfg->silence_timeout_ms = timeout_ms;
    cfg->struct_size = sizeof *cfg;
    return r;
}

void init_stream_counts(struct stream_counts *k)
{
    atomic_init(&k->frames, 0);
    atomic_init(&k->audio_packets, 0);
    atomic_init(&k->rumbles, 0);
    atomic_init(&k->state, XNANO_STATE_IDLE);
}

int stream_until(xnano_client *client, struct stream_counts *k, unsigned long min_frames,
                 double seconds)
{
    const double deadline = 120.0;
    double start = now_s();
    unsigned tick = 0;
    for (;;) {
        sleep_ms(20);
        int st = atomic_load(&k->state);
        if (st == XNANO_STATE_CLOSED) {
            fprintf(stderr, "stream closed early\n");
            return 0;
        }
        if (++tick % 5 == 0 && st >= XNANO_STATE_CONNECTED) {
            xnano_controller_state pad;
            memset(&pad, 0, sizeof pad);
            pad.struct_size = sizeof pad;
            pad.buttons = (tick / 5) % 2 ? XNANO_BUTTON_A : 0;
            pad.right_trigger = (uint8_t)(tick % 256);
            pad.left_thumb_x = -1000;
            xnano_result r = xnano_client_set_controller_state(client, 0, &pad);
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
        int have_stats = xnano_client_get_stats(client, &live) == XNANO_OK;
        if (atomic_load(&k->frames) >= min_frames && atomic_load(&k->audio_packets) > 0 &&
            atomic_load(&k->rumbles) > 0 && have_stats && live.input_frames_acked > 0) {
            return 1;
        }
        if (t >= deadline) {
            fprintf(stderr,
                    "deadline: %.0f s without %lu frames, audio, rumble and an input ack "
                    "(have %lu frames, %lu audio, %lu rumble, %llu acked)\n",
                    deadline, min_frames, atomic_load(&k->frames),
                    atomic_load(&k->audio_packets), atomic_load(&k->rumbles),
                    (unsigned long long)live.input_frames_acked);
            return 1;
        }
    }
}
