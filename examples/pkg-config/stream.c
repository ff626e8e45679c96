/*
 * The smallest C program over an installed xnano (scripts/install-c.sh):
 * starts the simulated console (libxnano_sim), connects a client to it over
 * the direct Nano path and counts the video frames that arrive. Built with
 * nothing but pkg-config:
 *
 *   cc -std=c11 stream.c $(pkg-config --cflags --libs xnano xnano_sim) -o stream
 *
 * An application streaming from a real console needs only `xnano`.
 * Usage: stream [FRAMES]   (default 30; exits 0 once they arrived)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xnano.h>
#include <xnano_sim.h>

static atomic_ulong frames;

static void on_video(void *user_data, const xnano_video_frame *frame)
{
    (void)user_data;
    (void)frame;
    atomic_fetch_add(&frames, 1);
}

static int fail(const char *what, xnano_result r, const char *detail)
{
    fprintf(stderr, "%s: %s: %s\n", what, xnano_result_name(r), detail);
    return 1;
}

int main(int argc, char **argv)
{
    unsigned long want = argc > 1 ? strtoul(argv[1], NULL, 10) : 30;
    if (xnano_abi_version() != XNANO_ABI_VERSION || xnano_sim_abi_version() != XNANO_SIM_ABI_VERSION) {
        fprintf(stderr, "ABI mismatch: header %u/%u, libraries %u/%u\n", (unsigned)XNANO_ABI_VERSION,
                (unsigned)XNANO_SIM_ABI_VERSION, (unsigned)xnano_abi_version(),
                (unsigned)xnano_sim_abi_version());
        return 2;
    }
    printf("xnano %s (ABI %u), header %s\n", xnano_version(), (unsigned)xnano_abi_version(),
           XNANO_VERSION_STRING);

    xnano_sim_config sim_cfg;
    memset(&sim_cfg, 0, sizeof sim_cfg);
    sim_cfg.struct_size = sizeof sim_cfg;
    xnano_result r = xnano_sim_config_default(&sim_cfg);
    if (r != XNANO_OK) return fail("xnano_sim_config_default", r, xnano_sim_last_error());
    sim_cfg.width = 320;
    sim_cfg.height = 240;
    sim_cfg.smartglass = false;
    xnano_sim *sim = NULL;
    if ((r = xnano_sim_new(&sim_cfg, &sim)) != XNANO_OK) return fail("xnano_sim_new", r, xnano_sim_last_error());
    uint16_t tcp = 0, udp = 0;
    if ((r = xnano_sim_nano_ports(sim, &tcp, &udp)) != XNANO_OK) return fail("xnano_sim_nano_ports", r, xnano_sim_last_error());

    xnano_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.struct_size = sizeof cfg;
    if ((r = xnano_client_config_default(&cfg)) != XNANO_OK) return fail("xnano_client_config_default", r, xnano_last_error());
    xnano_client *client = NULL;
    if ((r = xnano_client_new(&cfg, &client)) != XNANO_OK) return fail("xnano_client_new", r, xnano_last_error());
    if ((r = xnano_client_set_video_callback(client, on_video, NULL)) != XNANO_OK ||
        (r = xnano_client_connect_nano(client, "127.0.0.1", tcp, udp)) != XNANO_OK) {
        return fail("connect", r, xnano_last_error());
    }
    struct timespec tick = {0, 20 * 1000000L};
    for (int i = 0; i < 1500 && atomic_load(&frames) < want; i++) { /* at most 30 s */
        nanosleep(&tick, NULL);
    }
    unsigned long got = atomic_load(&frames);
    xnano_client_stop(client);
    xnano_client_free(client);
    xnano_sim_stop(sim);
    xnano_sim_free(sim);
    printf("C: %lu video frames from the simulated console (wanted %lu)\n", got, want);
    return got >= want ? 0 : 1;
}
