/*
 * xnano: Xbox One SmartGlass + Nano gamestreaming client, C API.
 *
 * ABI VERSION
 *   - XNANO_ABI_VERSION is the version of the ABI this header describes;
 *     xnano_abi_version() is the one the loaded library was built with.
 *     Check at start-up that they are equal and refuse to go on otherwise:
 *     the version changes with every incompatible change (a function
 *     removed or retyped, a field moved or retyped, a meaning changed).
 *     Adding a function, a constant, or a field at the end of a struct
 *     under the STRUCT GROWTH rule keeps it. On Linux the library's SONAME
 *     is libxnano.so.<XNANO_ABI_VERSION>, so the loader never hands a
 *     program linked against one ABI a library of another.
 *   - Result and enum types (xnano_result, xnano_state, ...) are uint32_t
 *     everywhere: in structs, parameters, returns and callbacks; their
 *     values are the enum constants below. Unknown values may appear in a
 *     newer library; treat them as "other".
 *
 * STRUCT GROWTH
 *   - Structs the caller allocates (xnano_client_config,
 *     xnano_console_config, xnano_client_stats, xnano_console_info,
 *     xnano_controller_state, xnano_gamepad; in xnano_sim.h also
 *     xnano_sim_config and xnano_sim_stats) start with uint32_t
 *     struct_size. Set it to sizeof(the struct) before EVERY call that
 *     takes the struct, also
 *     before xnano_*_config_default and the calls that fill it (stats,
 *     info). The library reads and writes only the fields that lie wholly
 *     inside struct_size bytes: fields a caller built against an older
 *     header does not have take their defaults, and the calls that write
 *     the struct set struct_size to the number of bytes the library knows
 *     of (min of the caller's and its own). struct_size below 4 gives
 *     XNANO_ERR_INVALID_ARGUMENT. Fields are only ever appended.
 *   - Structs the library allocates and hands out (xnano_video_frame,
 *     xnano_audio_packet, xnano_rumble in callbacks, xnano_event,
 *     xnano_console_event) only grow at their end; read the fields you
 *     know.
 *
 * CONVENTIONS
 *   - Handles (xnano_client, xnano_console, xnano_gamestream_config) are
 *     opaque; create them with
 *     xnano_<type>_new and release them with xnano_<type>_free, which
 *     accepts NULL, returns void and never fails. xnano_discover creates an
 *     xnano_discovery, released with xnano_discovery_free.
 *   - FREE FROM A CALLBACK: xnano_client_free / xnano_console_free called
 *     inside that handle's own callback cannot wait for the library's
 *     threads (the caller is on one). The handle is detached instead: no
 *     further callback of it is called once the running one returns, and
 *     the library stops it and releases it on a thread of its own once the
 *     callback's thread has ended. The handle is invalid as soon as free
 *     returns, either way.
 *   - Every fallible function returns an xnano_result. XNANO_OK is 0. On
 *     any other value xnano_last_error() gives a message (thread-local,
 *     valid until the next failing call on the same thread) and NO output
 *     argument was written. Outputs are the last parameters.
 *   - NULL for a required pointer gives XNANO_ERR_NULL; a call that the
 *     handle's state does not allow gives XNANO_ERR_WRONG_STATE.
 *   - No Rust panic ever crosses the API: it becomes XNANO_ERR_PANIC on the
 *     way in; inside a callback trampoline it ends the session (CLOSED with
 *     XNANO_ERR_PANIC). Callbacks must not throw C++ exceptions or longjmp
 *     out.
 *   - Strings passed in are NUL-terminated UTF-8; strings passed out are
 *     NUL-terminated UTF-8 and never NULL.
 *
 * THREAD SAFETY
 *   - All functions may be called from any thread. One handle may be used
 *     from several threads at once. Calls that promise "no callback after
 *     it returns" keep it under any interleaving: a second
 *     xnano_client_stop (or a free) while one runs waits for it, and so
 *     does xnano_console_disconnect (or a free) while a connect or
 *     disconnect of the same console runs. A free must still be the last
 *     call on a handle: no call may start once a free has started.
 *   - Client callbacks (video, audio, rumble, state) run on the library's
 *     threads: video and audio on the UDP receive thread, control events on
 *     the TCP receive thread, timeouts on a timer thread; occasionally on
 *     the thread that is inside an xnano_client_* call, during that call
 *     (e.g. the final CLOSED from xnano_client_stop). Callbacks of one
 *     client never run concurrently with each other, and they are called
 *     in event order. Keep them short: a slow video callback delays the
 *     whole session.
 *   - The console event callback (xnano_console_set_event_callback) runs
 *     on the console's socket thread; the events that arrive while
 *     xnano_console_connect runs (CONNECTED among them) are delivered on
 *     the thread calling it, just before it returns; the final CLOSED of
 *     xnano_console_disconnect / xnano_console_free on the socket thread
 *     or on the thread calling that, before it returns. Calls of one
 *     console's callback never overlap.
 *   - Blocking calls: xnano_discover, xnano_power_on,
 *     xnano_console_connect and xnano_client_connect_console wait for the
 *     network (bounded by their timeouts).
 *   - A callback may call back into the API (set controller state, request
 *     a keyframe, read stats, send a console command, ...). Stopping the
 *     SAME client, or disconnecting the SAME console, from its own
 *     callback returns XNANO_ERR_FROM_CALLBACK instead of deadlocking (do
 *     it from another thread); freeing it there detaches it (see FREE FROM
 *     A CALLBACK). So does
 *     xnano_client_connect_console from the console's callback (it waits
 *     for the console's socket thread). Do not block a callback
 *     waiting for another thread that is itself stopping this client, and
 *     do not hold a lock in a thread calling xnano_client_* that a callback
 *     of the same client also takes.
 *   - The log callback (xnano_set_log_callback) is process-wide and runs on
 *     whatever thread logs, possibly while internal locks are held: it must
 *     not call xnano_* functions other than xnano_version,
 *     xnano_result_name and xnano_last_error.
 *   - Pull mode: runtimes that prefer not to be called from foreign threads
 *     set event_queue_capacity > 0, set no callbacks, and read events with
 *     xnano_client_next_event / xnano_console_next_event on a thread of
 *     their choice.
 *
 * LIFETIMES
 *   - Pointers passed to a callback (frames, packets, rumble, message
 *     text) are valid only during that call: copy what you keep.
 *   - user_data is never dereferenced by the library; it must stay valid
 *     until xnano_client_stop / xnano_client_free (for a console:
 *     xnano_console_disconnect / xnano_console_free) returned (or, for the
 *     log callback, until xnano_set_log_callback replaced it). After
 *     xnano_client_stop returns, no callback of that client runs; after
 *     xnano_console_disconnect returns, none of that console. A handle
 *     freed inside its own callback: user_data must stay valid until that
 *     callback returned.
 *   - An xnano_event owns its data until xnano_event_free, an
 *     xnano_console_event until xnano_console_event_free.
 *   - A client streaming through a console (xnano_client_connect_console)
 *     only borrows it during that call: either may be freed first.
 *     Disconnecting the console does not stop the client (the console
 *     usually ends the stream, and the client reports CLOSED).
 *   - Config structs are copied by the calls that take them; the strings
 *     of xnano_console_config are read during xnano_console_connect only,
 *     and an xnano_gamestream_config may be freed once
 *     xnano_client_connect_console returned.
 *   - xnano_version(), xnano_result_name() return static strings.
 */


#ifndef XNANO_H
#define XNANO_H

/* Generated by cbindgen from src/ffi/ (see cbindgen.toml). Do not edit by hand. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Major version of this header (Cargo.toml). */
#define XNANO_VERSION_MAJOR 0
/** Minor version of this header. */
#define XNANO_VERSION_MINOR 1
/** Patch version of this header. */
#define XNANO_VERSION_PATCH 0
/** Version of this header as text; compare with xnano_version(). */
#define XNANO_VERSION_STRING "0.1.0"


/**
 * The version of the C ABI this header describes. It changes with every
 * incompatible change (a function removed or changed, a field moved or
 * retyped, a changed meaning); appending a field to a struct under the
 * `struct_size` rule, or adding a function, keeps it. Compare it with
 * `xnano_abi_version()` at run time; the shared library's SONAME is
 * `libxnano.so.<XNANO_ABI_VERSION>`.
 */
#define XNANO_ABI_VERSION 1

/**
 * The value meaning "any" in preference fields of `xnano_client_config`.
 */
#define XNANO_ANY 4294967295

/**
 * Video codec value: H.264 access units (Annex B).
 */
#define XNANO_VIDEO_CODEC_H264 0

/**
 * Video codec value: raw YUV.
 */
#define XNANO_VIDEO_CODEC_YUV 1

/**
 * Video codec value: raw RGB.
 */
#define XNANO_VIDEO_CODEC_RGB 2

/**
 * Audio codec value: Opus packets.
 */
#define XNANO_AUDIO_CODEC_OPUS 0

/**
 * Audio codec value: AAC.
 */
#define XNANO_AUDIO_CODEC_AAC 1

/**
 * Audio codec value: PCM (signed 16-bit little-endian interleaved here).
 */
#define XNANO_AUDIO_CODEC_PCM 2

/**
 * Button bit: D-pad up.
 */
#define XNANO_BUTTON_DPAD_UP 1

/**
 * Button bit: D-pad down.
 */
#define XNANO_BUTTON_DPAD_DOWN 2

/**
 * Button bit: D-pad left.
 */
#define XNANO_BUTTON_DPAD_LEFT 4

/**
 * Button bit: D-pad right.
 */
#define XNANO_BUTTON_DPAD_RIGHT 8

/**
 * Button bit: Start (menu).
 */
#define XNANO_BUTTON_START 16

/**
 * Button bit: Back (view).
 */
#define XNANO_BUTTON_BACK 32

/**
 * Button bit: left stick click.
 */
#define XNANO_BUTTON_LEFT_THUMB 64

/**
 * Button bit: right stick click.
 */
#define XNANO_BUTTON_RIGHT_THUMB 128

/**
 * Button bit: left bumper.
 */
#define XNANO_BUTTON_LEFT_SHOULDER 256

/**
 * Button bit: right bumper.
 */
#define XNANO_BUTTON_RIGHT_SHOULDER 512

/**
 * Button bit: Guide (Xbox) button.
 */
#define XNANO_BUTTON_GUIDE 1024

/**
 * Button bit: A.
 */
#define XNANO_BUTTON_A 4096

/**
 * Button bit: B.
 */
#define XNANO_BUTTON_B 8192

/**
 * Button bit: X.
 */
#define XNANO_BUTTON_X 16384

/**
 * Button bit: Y.
 */
#define XNANO_BUTTON_Y 32768

/**
 * `xnano_console_launch_title` location: full screen.
 */
#define XNANO_TITLE_LOCATION_FULL 0

/**
 * `xnano_console_launch_title` location: fill.
 */
#define XNANO_TITLE_LOCATION_FILL 1

/**
 * `xnano_console_launch_title` location: snapped.
 */
#define XNANO_TITLE_LOCATION_SNAPPED 2

/**
 * `xnano_console_launch_title` location: start view.
 */
#define XNANO_TITLE_LOCATION_START_VIEW 3

/**
 * `xnano_console_launch_title` location: system UI.
 */
#define XNANO_TITLE_LOCATION_SYSTEM_UI 4

/**
 * `xnano_console_launch_title` location: the console's default.
 */
#define XNANO_TITLE_LOCATION_DEFAULT 5

/**
 * Media command: play.
 */
#define XNANO_MEDIA_PLAY 2

/**
 * Media command: pause.
 */
#define XNANO_MEDIA_PAUSE 4

/**
 * Media command: play/pause toggle.
 */
#define XNANO_MEDIA_PLAY_PAUSE_TOGGLE 8

/**
 * Media command: stop.
 */
#define XNANO_MEDIA_STOP 16

/**
 * Media command: record.
 */
#define XNANO_MEDIA_RECORD 32

/**
 * Media command: next track.
 */
#define XNANO_MEDIA_NEXT_TRACK 64

/**
 * Media command: previous track.
 */
#define XNANO_MEDIA_PREVIOUS_TRACK 128

/**
 * Media command: fast forward.
 */
#define XNANO_MEDIA_FAST_FORWARD 256

/**
 * Media command: rewind.
 */
#define XNANO_MEDIA_REWIND 512

/**
 * Media command: channel up.
 */
#define XNANO_MEDIA_CHANNEL_UP 1024

/**
 * Media command: channel down.
 */
#define XNANO_MEDIA_CHANNEL_DOWN 2048

/**
 * Media command: back.
 */
#define XNANO_MEDIA_BACK 4096

/**
 * Media command: view.
 */
#define XNANO_MEDIA_VIEW 8192

/**
 * Media command: menu.
 */
#define XNANO_MEDIA_MENU 16384

/**
 * Media command: seek (to `seek_position`).
 */
#define XNANO_MEDIA_SEEK 32768

/**
 * SmartGlass gamepad button bit (`xnano_gamepad.buttons`): enroll.
 */
#define XNANO_GAMEPAD_ENROLL 1

/**
 * SmartGlass gamepad button bit: Nexus (guide).
 */
#define XNANO_GAMEPAD_NEXUS 2

/**
 * SmartGlass gamepad button bit: menu.
 */
#define XNANO_GAMEPAD_MENU 4

/**
 * SmartGlass gamepad button bit: view.
 */
#define XNANO_GAMEPAD_VIEW 8

/**
 * SmartGlass gamepad button bit: A.
 */
#define XNANO_GAMEPAD_A 16

/**
 * SmartGlass gamepad button bit: B.
 */
#define XNANO_GAMEPAD_B 32

/**
 * SmartGlass gamepad button bit: X.
 */
#define XNANO_GAMEPAD_X 64

/**
 * SmartGlass gamepad button bit: Y.
 */
#define XNANO_GAMEPAD_Y 128

/**
 * SmartGlass gamepad button bit: D-pad up.
 */
#define XNANO_GAMEPAD_DPAD_UP 256

/**
 * SmartGlass gamepad button bit: D-pad down.
 */
#define XNANO_GAMEPAD_DPAD_DOWN 512

/**
 * SmartGlass gamepad button bit: D-pad left.
 */
#define XNANO_GAMEPAD_DPAD_LEFT 1024

/**
 * SmartGlass gamepad button bit: D-pad right.
 */
#define XNANO_GAMEPAD_DPAD_RIGHT 2048

/**
 * SmartGlass gamepad button bit: left shoulder.
 */
#define XNANO_GAMEPAD_LEFT_SHOULDER 4096

/**
 * SmartGlass gamepad button bit: right shoulder.
 */
#define XNANO_GAMEPAD_RIGHT_SHOULDER 8192

/**
 * SmartGlass gamepad button bit: left thumbstick click.
 */
#define XNANO_GAMEPAD_LEFT_THUMB 16384

/**
 * SmartGlass gamepad button bit: right thumbstick click.
 */
#define XNANO_GAMEPAD_RIGHT_THUMB 32768

/**
 * `xnano_console_text_done` result: cancel the text entry.
 */
#define XNANO_TEXT_RESULT_CANCEL 0

/**
 * `xnano_console_text_done` result: accept the text.
 */
#define XNANO_TEXT_RESULT_ACCEPT 1

/**
 * Service channel value (`xnano_console_event.channel`): core.
 */
#define XNANO_CHANNEL_CORE 0

/**
 * Service channel value: system input.
 */
#define XNANO_CHANNEL_SYSTEM_INPUT 1

/**
 * Service channel value: system input, TV remote.
 */
#define XNANO_CHANNEL_SYSTEM_INPUT_TV_REMOTE 2

/**
 * Service channel value: system media.
 */
#define XNANO_CHANNEL_SYSTEM_MEDIA 3

/**
 * Service channel value: system text.
 */
#define XNANO_CHANNEL_SYSTEM_TEXT 4

/**
 * Service channel value: system broadcast (gamestream).
 */
#define XNANO_CHANNEL_SYSTEM_BROADCAST 5

/**
 * Service channel value: the title channel.
 */
#define XNANO_CHANNEL_TITLE 7

/**
 * Gamestream state value (`xnano_console_event.gamestream_state`): unknown.
 */
#define XNANO_GAMESTREAM_UNKNOWN 0

/**
 * Gamestream state value: initializing (the Nano ports are announced).
 */
#define XNANO_GAMESTREAM_INITIALIZING 1

/**
 * Gamestream state value: started (the Nano host is ready).
 */
#define XNANO_GAMESTREAM_STARTED 2

/**
 * Gamestream state value: stopped.
 */
#define XNANO_GAMESTREAM_STOPPED 3

/**
 * Gamestream state value: paused.
 */
#define XNANO_GAMESTREAM_PAUSED 4

/**
 * The SmartGlass UDP port of a console (used when an address has none).
 */
#define XNANO_SMARTGLASS_PORT 5050

/**
 * Size of `xnano_console_info.name` (bytes, with the terminating NUL).
 */
#define XNANO_CONSOLE_NAME_SIZE 64

/**
 * Size of `xnano_console_info.live_id` (bytes, with the terminating NUL).
 */
#define XNANO_LIVE_ID_SIZE 32

/**
 * Size of `xnano_console_info.address` (bytes, with the terminating NUL).
 */
#define XNANO_ADDRESS_SIZE 64

/**
 * Size of `xnano_console_info.uuid` (bytes, with the terminating NUL).
 */
#define XNANO_UUID_SIZE 40

/**
 * `xnano_console_info.curve` value: NIST P-256.
 */
#define XNANO_CURVE_P256 0

/**
 * `xnano_console_info.curve` value: NIST P-384.
 */
#define XNANO_CURVE_P384 1

/**
 * `xnano_console_info.curve` value: NIST P-521.
 */
#define XNANO_CURVE_P521 2

/**
 * `xnano_console_info.flags` bit: console users may connect.
 */
#define XNANO_CONSOLE_FLAG_ALLOW_CONSOLE_USERS 1

/**
 * `xnano_console_info.flags` bit: authenticated users may connect.
 */
#define XNANO_CONSOLE_FLAG_ALLOW_AUTHENTICATED_USERS 2

/**
 * `xnano_console_info.flags` bit: anonymous users may connect.
 */
#define XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS 4

/**
 * `xnano_console_info.flags` bit: certificate pending.
 */
#define XNANO_CONSOLE_FLAG_CERTIFICATE_PENDING 8

/**
 * `xnano_console_info.device_type` value: Xbox One.
 */
#define XNANO_DEVICE_XBOX_ONE 1

/**
 * Result of every fallible `xnano_*` function. `XNANO_OK` is 0; on any
 * other value `xnano_last_error()` describes the failure, and no output
 * argument was written.
 */
enum xnano_result
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Success.
   */
  XNANO_OK = 0,
  /**
   * A required pointer argument was NULL.
   */
  XNANO_ERR_NULL = 1,
  /**
   * An argument is out of range or malformed (bad string, bad config value).
   */
  XNANO_ERR_INVALID_ARGUMENT = 2,
  /**
   * The call is not allowed in the handle's current state (e.g. sending
   * input before connecting, setting a callback after connecting).
   */
  XNANO_ERR_WRONG_STATE = 3,
  /**
   * Stopping or freeing a client from inside one of its own callbacks
   * (it would deadlock). Do it from another thread after the callback.
   */
  XNANO_ERR_FROM_CALLBACK = 4,
  /**
   * A socket or operating-system error (connection refused, bind failed...).
   */
  XNANO_ERR_IO = 5,
  /**
   * A timeout passed (connect, handshake, `xnano_client_next_event`).
   */
  XNANO_ERR_TIMEOUT = 6,
  /**
   * The console sent something that cannot be used.
   */
  XNANO_ERR_PROTOCOL = 7,
  /**
   * The session is closed (by the console, by an error or by a stop) and
   * no more events are queued.
   */
  XNANO_ERR_CLOSED = 8,
  /**
   * A caller-provided buffer is too small.
   */
  XNANO_ERR_BUFFER_TOO_SMALL = 9,
  /**
   * Not available in this build or not implemented yet.
   */
  XNANO_ERR_UNSUPPORTED = 10,
  /**
   * A Rust panic was caught at the API boundary (a bug in xnano; the
   * handle may be unusable, but the process goes on).
   */
  XNANO_ERR_PANIC = 11,
  /**
   * No console answered a discovery request at the address given (e.g.
   * to `xnano_console_connect`), or the console is off.
   */
  XNANO_ERR_NOT_FOUND = 12,
  /**
   * The console refused: the connection (anonymous connections disabled
   * and no credentials given, too many devices...), a service channel,
   * or the gamestream (GameStreamError).
   */
  XNANO_ERR_REFUSED = 13,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum xnano_result xnano_result;
#else
typedef uint32_t xnano_result;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * The state of an `xnano_client`.
 */
enum xnano_state
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Created, not connected yet: callbacks may be set.
   */
  XNANO_STATE_IDLE = 0,
  /**
   * Connecting: the TCP connection is up, the control handshake runs.
   */
  XNANO_STATE_CONNECTING = 1,
  /**
   * The control handshake completed; channels are being opened.
   */
  XNANO_STATE_CONNECTED = 2,
  /**
   * Media flows: the console's first UDP datagram arrived.
   */
  XNANO_STATE_STREAMING = 3,
  /**
   * The session ended (see the error passed with this state).
   */
  XNANO_STATE_CLOSED = 4,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum xnano_state xnano_state;
#else
typedef uint32_t xnano_state;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * What an `xnano_event` carries.
 */
enum xnano_event_type
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * A state change: `state`, `error` and `message` are set.
   */
  XNANO_EVENT_STATE = 0,
  /**
   * A video frame: `video` is set.
   */
  XNANO_EVENT_VIDEO_FRAME = 1,
  /**
   * An audio packet: `audio` is set.
   */
  XNANO_EVENT_AUDIO = 2,
  /**
   * A rumble command: `rumble` is set.
   */
  XNANO_EVENT_RUMBLE = 3,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum xnano_event_type xnano_event_type;
#else
typedef uint32_t xnano_event_type;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * What an `xnano_console_event` reports.
 */
enum xnano_console_event_type
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * The console accepted the connection: `participant_id`.
   */
  XNANO_CONSOLE_EVENT_CONNECTED = 0,
  /**
   * The session ended; nothing follows. `error`: XNANO_OK after
   * `xnano_console_disconnect`, XNANO_ERR_CLOSED when the console
   * disconnected (e.g. powered off), XNANO_ERR_TIMEOUT, XNANO_ERR_IO,
   * XNANO_ERR_PANIC; `message` says why.
   */
  XNANO_CONSOLE_EVENT_CLOSED = 1,
  /**
   * Console status: `os_major_version`, `os_minor_version`,
   * `os_build_number`, `active_title_count`, `title_id` and `text` (the
   * focused title and its AUM).
   */
  XNANO_CONSOLE_EVENT_CONSOLE_STATUS = 2,
  /**
   * Media state: `title_id`, `playback_status`, `media_position`,
   * `media_end`, `text` (the app's AUM).
   */
  XNANO_CONSOLE_EVENT_MEDIA_STATE = 3,
  /**
   * The console opened a text entry session: `text_session_id`,
   * `text_version`, `text_max_length`, `text` (the prompt). Answer with
   * `xnano_console_send_text` / `xnano_console_text_done`.
   */
  XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION = 4,
  /**
   * The console's text changed: `text_session_id`, `text_version`,
   * `text` (acknowledged automatically).
   */
  XNANO_CONSOLE_EVENT_TEXT_INPUT = 5,
  /**
   * A text session ended: `text_session_id`, `text_version`,
   * `text_result` (XNANO_TEXT_RESULT_*).
   */
  XNANO_CONSOLE_EVENT_TEXT_DONE = 6,
  /**
   * A service channel opened: `channel` (XNANO_CHANNEL_*).
   */
  XNANO_CONSOLE_EVENT_CHANNEL_STARTED = 7,
  /**
   * The console refused to open a channel: `channel`, `error`
   * (XNANO_ERR_REFUSED), `message`.
   */
  XNANO_CONSOLE_EVENT_CHANNEL_FAILED = 8,
  /**
   * The console's gamestream state changed: `gamestream_state`
   * (XNANO_GAMESTREAM_*), `tcp_port` / `udp_port` (the Nano ports, when
   * announced).
   */
  XNANO_CONSOLE_EVENT_GAMESTREAM_STATE = 9,
  /**
   * The gamestream's Nano connection is up: `tcp_port`, `udp_port`.
   */
  XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED = 10,
  /**
   * The gamestream could not be started: `error`, `message`.
   */
  XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED = 11,
  /**
   * Anything else the session reports (acknowledgements, JSON messages,
   * pairing state, media command results, rejected packets...):
   * `message` is its name, `json` its content.
   */
  XNANO_CONSOLE_EVENT_OTHER = 12,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum xnano_console_event_type xnano_console_event_type;
#else
typedef uint32_t xnano_console_event_type;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * The state of an `xnano_console`.
 */
enum xnano_console_state
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Created, not connected: the event callback may be set.
   */
  XNANO_CONSOLE_STATE_IDLE = 0,
  /**
   * Connected: commands may be sent.
   */
  XNANO_CONSOLE_STATE_CONNECTED = 1,
  /**
   * The session ended (see the CLOSED event).
   */
  XNANO_CONSOLE_STATE_CLOSED = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum xnano_console_state xnano_console_state;
#else
typedef uint32_t xnano_console_state;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Severity of a log message (also the `max_level` filter of
 * `xnano_set_log_callback`).
 */
enum xnano_log_level
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Nothing (as a filter: logging off).
   */
  XNANO_LOG_OFF = 0,
  /**
   * Errors.
   */
  XNANO_LOG_ERROR = 1,
  /**
   * Warnings.
   */
  XNANO_LOG_WARN = 2,
  /**
   * Informational messages.
   */
  XNANO_LOG_INFO = 3,
  /**
   * Debugging details.
   */
  XNANO_LOG_DEBUG = 4,
  /**
   * Very verbose tracing.
   */
  XNANO_LOG_TRACE = 5,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum xnano_log_level xnano_log_level;
#else
typedef uint32_t xnano_log_level;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * A gamestream client session. Created by `xnano_client_new`, freed by
 * `xnano_client_free`. Opaque.
 */
typedef struct xnano_client xnano_client;

/**
 * A SmartGlass session with a console. Created by `xnano_console_new`,
 * freed by `xnano_console_free`. Opaque.
 */
typedef struct xnano_console xnano_console;

/**
 * The consoles found by `xnano_discover`. Opaque; free with
 * `xnano_discovery_free`.
 */
typedef struct xnano_discovery xnano_discovery;

/**
 * The StartGameStream configuration of `xnano_client_connect_console`.
 * Created with the console protocol's defaults by
 * `xnano_gamestream_config_new`, changed key by key with
 * `xnano_gamestream_config_set`, freed by `xnano_gamestream_config_free`.
 * Opaque.
 */
typedef struct xnano_gamestream_config xnano_gamestream_config;

/**
 * Client settings. Get the defaults with `xnano_client_config_default`,
 * then change what you need.
 */
typedef struct xnano_client_config {
  /**
   * Set by the caller to `sizeof` this struct before every call that
   * takes it (see STRUCT GROWTH in the header); on return from a call
   * that writes the struct, the number of bytes the library knew of.
   */
  uint32_t struct_size;
  /**
   * Preferred video width among the console's offers, or XNANO_ANY.
   */
  uint32_t video_width;
  /**
   * Preferred video height, or XNANO_ANY.
   */
  uint32_t video_height;
  /**
   * Preferred video codec (XNANO_VIDEO_CODEC_*), or XNANO_ANY.
   */
  uint32_t video_codec;
  /**
   * Preferred audio codec (XNANO_AUDIO_CODEC_*), or XNANO_ANY.
   */
  uint32_t audio_codec;
  /**
   * Preferred audio channel count, or XNANO_ANY.
   */
  uint32_t audio_channels;
  /**
   * Preferred audio sample rate in Hz, or XNANO_ANY.
   */
  uint32_t audio_sample_rate;
  /**
   * TCP connect and control handshake timeout, ms (default 5000).
   */
  uint32_t connect_timeout_ms;
  /**
   * The session closes with XNANO_ERR_TIMEOUT when the console is silent
   * this long, ms (default 5000).
   */
  uint32_t silence_timeout_ms;
  /**
   * How long a video frame may wait for its missing chunks, ms (default 16).
   */
  uint32_t defrag_timeout_ms;
  /**
   * Interval of keyframe requests while none arrives, ms (default 300).
   */
  uint32_t keyframe_retry_ms;
  /**
   * The most input frames sent per second (default 120).
   */
  uint32_t input_reads_per_second;
  /**
   * The largest video frame accepted, bytes (default 4 MiB).
   */
  uint32_t max_frame_size;
  /**
   * UDP receive buffer asked from the kernel, bytes (default 8 MiB).
   */
  uint32_t udp_recv_buffer;
  /**
   * 0 (default): events go to the callbacks only. N > 0: every event is
   * also copied into a queue of at most N events, read with
   * `xnano_client_next_event`; when it is full new media events are
   * dropped (counted in `events_dropped`), state events never are.
   */
  uint32_t event_queue_capacity;
  /**
   * Open the ChatAudio channel (microphone to console; default true).
   */
  bool chat_audio;
  /**
   * Hold video back until the first keyframe (default true).
   */
  bool wait_for_first_keyframe;
} xnano_client_config;

/**
 * One complete video frame, as passed to the video callback and carried
 * by video events.
 */
typedef struct xnano_video_frame {
  /**
   * Frame id (consecutive; a gap means frames were lost).
   */
  uint32_t frame_id;
  /**
   * Codec of the stream (XNANO_VIDEO_CODEC_*).
   */
  uint32_t codec;
  /**
   * Width in pixels.
   */
  uint32_t width;
  /**
   * Height in pixels.
   */
  uint32_t height;
  /**
   * Frames per second announced by the console.
   */
  uint32_t fps;
  /**
   * Console timestamp, microseconds.
   */
  uint64_t timestamp;
  /**
   * The frame's bytes (one H.264 access unit for H.264). In a callback:
   * valid only during the call. In an event: owned by the event.
   */
  const uint8_t *data;
  /**
   * Length of `data` in bytes.
   */
  size_t len;
  /**
   * True for keyframes (IDR).
   */
  bool keyframe;
} xnano_video_frame;

/**
 * Receives each complete video frame, in frame-id order. `frame` and its
 * data are valid only during the call (copy what you keep).
 */
typedef void (*xnano_video_callback)(void *user_data, const struct xnano_video_frame *frame);

/**
 * One audio packet, as passed to the audio callback and carried by audio
 * events.
 */
typedef struct xnano_audio_packet {
  /**
   * Frame id as sent by the console.
   */
  uint32_t frame_id;
  /**
   * Codec of the stream (XNANO_AUDIO_CODEC_*).
   */
  uint32_t codec;
  /**
   * Channel count.
   */
  uint32_t channels;
  /**
   * Sample rate, Hz.
   */
  uint32_t sample_rate;
  /**
   * Console timestamp, microseconds.
   */
  uint64_t timestamp;
  /**
   * The encoded packet. In a callback: valid only during the call. In an
   * event: owned by the event.
   */
  const uint8_t *data;
  /**
   * Length of `data` in bytes.
   */
  size_t len;
} xnano_audio_packet;

/**
 * Receives each audio packet. `packet` and its data are valid only during
 * the call.
 */
typedef void (*xnano_audio_callback)(void *user_data, const struct xnano_audio_packet *packet);

/**
 * A rumble (force feedback) command.
 */
typedef struct xnano_rumble {
  /**
   * Controller number, 0..=3.
   */
  uint8_t controller;
  /**
   * Left trigger motor, 0..=255.
   */
  uint8_t left_trigger;
  /**
   * Right trigger motor, 0..=255.
   */
  uint8_t right_trigger;
  /**
   * Left handle (low-frequency) motor, 0..=255.
   */
  uint8_t left_handle;
  /**
   * Right handle (high-frequency) motor, 0..=255.
   */
  uint8_t right_handle;
} xnano_rumble;

/**
 * Receives each rumble command. `rumble` is valid only during the call.
 */
typedef void (*xnano_rumble_callback)(void *user_data, const struct xnano_rumble *rumble);

/**
 * Receives each state change. With XNANO_STATE_CLOSED, `error` tells why
 * (XNANO_OK after `xnano_client_stop`, XNANO_ERR_TIMEOUT, XNANO_ERR_IO,
 * XNANO_ERR_PROTOCOL, XNANO_ERR_CLOSED when the console hung up,
 * XNANO_ERR_PANIC when a callback trampoline failed); otherwise it is
 * XNANO_OK. `message` is a NUL-terminated text (never NULL, possibly
 * empty) valid only during the call. CLOSED comes exactly once and is the
 * last call of any callback of the client.
 */
typedef void (*xnano_state_callback)(void *user_data, xnano_state state, xnano_result error, const char *message);

/**
 * The state of one controller, sent with `xnano_client_set_controller_state`.
 */
typedef struct xnano_controller_state {
  /**
   * Set by the caller to `sizeof` this struct before every call that
   * takes it (see STRUCT GROWTH in the header); on return from a call
   * that writes the struct, the number of bytes the library knew of.
   */
  uint32_t struct_size;
  /**
   * Buttons held down: a bit mask of XNANO_BUTTON_*.
   */
  uint16_t buttons;
  /**
   * Left trigger, 0..=255.
   */
  uint8_t left_trigger;
  /**
   * Right trigger, 0..=255.
   */
  uint8_t right_trigger;
  /**
   * Left stick X, -32768..=32767.
   */
  int16_t left_thumb_x;
  /**
   * Left stick Y.
   */
  int16_t left_thumb_y;
  /**
   * Right stick X.
   */
  int16_t right_thumb_x;
  /**
   * Right stick Y.
   */
  int16_t right_thumb_y;
} xnano_controller_state;

/**
 * Session statistics (`xnano_client_get_stats`).
 */
typedef struct xnano_client_stats {
  /**
   * Set by the caller to `sizeof` this struct before every call that
   * takes it (see STRUCT GROWTH in the header); on return from a call
   * that writes the struct, the number of bytes the library knew of.
   */
  uint32_t struct_size;
  /**
   * Video frames delivered.
   */
  uint64_t frames_delivered;
  /**
   * Complete frames withheld because they depended on a lost one.
   */
  uint64_t frames_dropped;
  /**
   * Video frames lost.
   */
  uint64_t frames_lost;
  /**
   * Keyframes delivered.
   */
  uint64_t keyframes_delivered;
  /**
   * Keyframe requests sent.
   */
  uint64_t keyframe_requests;
  /**
   * Lost-frame reports sent.
   */
  uint64_t lost_reports;
  /**
   * Video chunks accepted.
   */
  uint64_t chunks_accepted;
  /**
   * Duplicated video chunks ignored.
   */
  uint64_t chunks_duplicate;
  /**
   * Video chunks of frames already finished.
   */
  uint64_t chunks_late;
  /**
   * Contradictory or over-limit video chunks.
   */
  uint64_t chunks_invalid;
  /**
   * Video bytes delivered.
   */
  uint64_t video_bytes;
  /**
   * Audio packets delivered.
   */
  uint64_t audio_packets;
  /**
   * Audio bytes delivered.
   */
  uint64_t audio_bytes;
  /**
   * Input frames sent.
   */
  uint64_t input_frames_sent;
  /**
   * Input frames acknowledged by the console.
   */
  uint64_t input_frames_acked;
  /**
   * Rumble commands received.
   */
  uint64_t rumble_events;
  /**
   * ChatAudio packets sent.
   */
  uint64_t chat_audio_sent;
  /**
   * UDP datagrams accepted.
   */
  uint64_t udp_packets;
  /**
   * UDP bytes accepted.
   */
  uint64_t udp_bytes;
  /**
   * UDP datagrams that did not decode.
   */
  uint64_t udp_malformed;
  /**
   * UDP datagrams with a wrong connection id or channel.
   */
  uint64_t udp_rejected;
  /**
   * UDP datagrams from an address other than the console's.
   */
  uint64_t udp_foreign_packets;
  /**
   * TCP packets received.
   */
  uint64_t tcp_packets;
  /**
   * TCP packets that did not decode.
   */
  uint64_t tcp_malformed;
  /**
   * Frame delivery latency (last chunk to callback), median, us.
   */
  uint64_t latency_p50_us;
  /**
   * Frame delivery latency, 99th percentile, us.
   */
  uint64_t latency_p99_us;
  /**
   * Frame delivery latency, maximum, us.
   */
  uint64_t latency_max_us;
  /**
   * Events dropped because the event queue was full.
   */
  uint64_t events_dropped;
  /**
   * Frame-id restarts seen (encoder restarts, stalls resynchronised).
   */
  uint64_t frame_id_restarts;
  /**
   * Video chunks whose flags differed from their frame's other chunks.
   */
  uint64_t chunk_flag_mismatches;
  /**
   * Input frames sent again until the console acked the latest state.
   */
  uint64_t input_frames_resent;
} xnano_client_stats;

/**
 * An event taken from the queue by `xnano_client_next_event`. The event
 * owns what it points to (`video`, `audio`, `rumble`, their data,
 * `message`) until `xnano_event_free`. Fields that do not belong to
 * `kind` are zero or NULL (`message` is then ""). The library allocates
 * it; later versions may append fields.
 */
typedef struct xnano_event {
  /**
   * What the event carries.
   */
  xnano_event_type kind;
  /**
   * The new state (XNANO_EVENT_STATE).
   */
  xnano_state state;
  /**
   * Why the session closed (XNANO_EVENT_STATE with XNANO_STATE_CLOSED).
   */
  xnano_result error;
  /**
   * State text (never NULL; "" for other events).
   */
  const char *message;
  /**
   * The frame (XNANO_EVENT_VIDEO_FRAME), else NULL.
   */
  const struct xnano_video_frame *video;
  /**
   * The packet (XNANO_EVENT_AUDIO), else NULL.
   */
  const struct xnano_audio_packet *audio;
  /**
   * The command (XNANO_EVENT_RUMBLE), else NULL.
   */
  const struct xnano_rumble *rumble;
} xnano_event;

/**
 * Settings of `xnano_console_connect`. Get the defaults with
 * `xnano_console_config_default`, then change what you need. The strings
 * are read (copied) during `xnano_console_connect` only.
 */
typedef struct xnano_console_config {
  /**
   * Set by the caller to `sizeof` this struct before every call that
   * takes it (see STRUCT GROWTH in the header); on return from a call
   * that writes the struct, the number of bytes the library knew of.
   */
  uint32_t struct_size;
  /**
   * Xbox Live user hash for an authenticated connection; NULL or ""
   * (default): anonymous (needs both this and `auth_token`).
   */
  const char *userhash;
  /**
   * Xbox Live XSTS token; NULL or "" (default): anonymous.
   */
  const char *auth_token;
  /**
   * Connect anonymously even when the console's flags do not allow
   * anonymous users (default false: XNANO_ERR_REFUSED without sending).
   */
  bool ignore_anonymous_flag;
  /**
   * How long the unicast discovery that fetches the console's
   * certificate waits, ms (default 3000).
   */
  uint32_t discovery_timeout_ms;
  /**
   * How long blocking calls wait, ms (default 10000): the connect
   * itself, and the channel and gamestream start of
   * `xnano_client_connect_console`.
   */
  uint32_t wait_timeout_ms;
  /**
   * Time between heartbeats, ms (default 3000).
   */
  uint32_t heartbeat_interval_ms;
  /**
   * The session closes with XNANO_ERR_TIMEOUT when nothing arrived from
   * the console this long, ms (default 15000).
   */
  uint32_t console_timeout_ms;
  /**
   * 0 (default): events go to the event callback only. N > 0: every
   * event is also copied into a queue of at most N events, read with
   * `xnano_console_next_event`; when it is full new events are dropped,
   * except CLOSED, which never is.
   */
  uint32_t event_queue_capacity;
} xnano_console_config;

/**
 * One event of an `xnano_console`, as passed to the event callback and
 * returned by `xnano_console_next_event`. Fields that do not belong to
 * `kind` are 0 (strings ""). In a callback the event and its strings are
 * valid only during the call; a pulled event owns them until
 * `xnano_console_event_free`.
 */
typedef struct xnano_console_event {
  /**
   * What happened.
   */
  xnano_console_event_type kind;
  /**
   * CLOSED, CHANNEL_FAILED, GAMESTREAM_FAILED: the result code that
   * describes the failure (XNANO_OK for a CLOSED after
   * `xnano_console_disconnect`); XNANO_OK otherwise.
   */
  xnano_result error;
  /**
   * A one-line description (never NULL): the close reason, the error,
   * the event's name for OTHER.
   */
  const char *message;
  /**
   * The whole event as JSON (never NULL; field names as in the Rust
   * core's `SessionEvent` serialization).
   */
  const char *json;
  /**
   * CONNECTED: our participant id.
   */
  uint32_t participant_id;
  /**
   * CONSOLE_STATUS: the focused title's id; MEDIA_STATE: the media
   * title's id.
   */
  uint32_t title_id;
  /**
   * CONSOLE_STATUS: OS major version.
   */
  uint32_t os_major_version;
  /**
   * CONSOLE_STATUS: OS minor version.
   */
  uint32_t os_minor_version;
  /**
   * CONSOLE_STATUS: OS build number.
   */
  uint32_t os_build_number;
  /**
   * CONSOLE_STATUS: number of running titles.
   */
  uint32_t active_title_count;
  /**
   * MEDIA_STATE: playback status (0 closed, 1 changing, 2 stopped,
   * 3 playing, 4 paused).
   */
  uint32_t playback_status;
  /**
   * MEDIA_STATE: position (100 ns units).
   */
  uint64_t media_position;
  /**
   * MEDIA_STATE: media end (100 ns units).
   */
  uint64_t media_end;
  /**
   * TEXT_*: the text session id.
   */
  uint32_t text_session_id;
  /**
   * TEXT_CONFIGURATION: buffer version; TEXT_INPUT: submitted version;
   * TEXT_DONE: text version.
   */
  uint32_t text_version;
  /**
   * TEXT_CONFIGURATION: the longest text accepted.
   */
  uint32_t text_max_length;
  /**
   * TEXT_DONE: XNANO_TEXT_RESULT_*.
   */
  uint32_t text_result;
  /**
   * Text content (never NULL): CONSOLE_STATUS the focused title's AUM,
   * MEDIA_STATE the app's AUM, TEXT_CONFIGURATION the prompt,
   * TEXT_INPUT the text.
   */
  const char *text;
  /**
   * CHANNEL_*: XNANO_CHANNEL_*.
   */
  uint32_t channel;
  /**
   * GAMESTREAM_STATE: XNANO_GAMESTREAM_*.
   */
  uint32_t gamestream_state;
  /**
   * GAMESTREAM_*: the Nano TCP port (0 when not announced).
   */
  uint16_t tcp_port;
  /**
   * GAMESTREAM_*: the Nano UDP port (0 when not announced).
   */
  uint16_t udp_port;
} xnano_console_event;

/**
 * Receives each event of a console, in order. `event` is valid only
 * during the call. CLOSED comes exactly once and is the last call.
 */
typedef void (*xnano_console_event_callback)(void *user_data, const struct xnano_console_event *event);

/**
 * A console as its discovery response describes it. Text fields are
 * NUL-terminated UTF-8, cut (at a character boundary) when longer than
 * their array.
 */
typedef struct xnano_console_info {
  /**
   * Set by the caller to `sizeof` this struct before every call that
   * takes it (see STRUCT GROWTH in the header); on return from a call
   * that writes the struct, the number of bytes the library knew of.
   */
  uint32_t struct_size;
  /**
   * The console's name.
   */
  char name[XNANO_CONSOLE_NAME_SIZE];
  /**
   * The console's Live ID (for `xnano_power_on`).
   */
  char live_id[XNANO_LIVE_ID_SIZE];
  /**
   * The console's SmartGlass address, `IP:PORT` (`[IPv6]:PORT`), as
   * `xnano_console_connect` takes it.
   */
  char address[XNANO_ADDRESS_SIZE];
  /**
   * The console's UUID, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
   */
  char uuid[XNANO_UUID_SIZE];
  /**
   * Curve of the console's key (XNANO_CURVE_*).
   */
  uint32_t curve;
  /**
   * Who may connect: XNANO_CONSOLE_FLAG_* bits.
   */
  uint32_t flags;
  /**
   * Device type (XNANO_DEVICE_XBOX_ONE for consoles).
   */
  uint32_t device_type;
  /**
   * The console's last error code.
   */
  uint32_t last_error;
  /**
   * The SmartGlass UDP port (also in `address`).
   */
  uint16_t port;
} xnano_console_info;

/**
 * A SmartGlass gamepad state (`xnano_console_gamepad`): navigation of the
 * console's UI outside a gamestream. In a gamestream use
 * `xnano_client_set_controller_state` instead.
 */
typedef struct xnano_gamepad {
  /**
   * Set by the caller to `sizeof` this struct before every call that
   * takes it (see STRUCT GROWTH in the header); on return from a call
   * that writes the struct, the number of bytes the library knew of.
   */
  uint32_t struct_size;
  /**
   * Buttons down: XNANO_GAMEPAD_* bits.
   */
  uint16_t buttons;
  /**
   * Left trigger, 0..1.
   */
  float left_trigger;
  /**
   * Right trigger, 0..1.
   */
  float right_trigger;
  /**
   * Left stick X, -1..1.
   */
  float left_thumb_x;
  /**
   * Left stick Y, -1..1.
   */
  float left_thumb_y;
  /**
   * Right stick X, -1..1.
   */
  float right_thumb_x;
  /**
   * Right stick Y, -1..1.
   */
  float right_thumb_y;
} xnano_gamepad;

/**
 * Receives one log message. `target` is the Rust module that logged (e.g.
 * "xnano::nano::engine") and `message` the text; both are NUL-terminated,
 * never NULL, and valid only during the call. Called on whatever thread
 * logged, possibly while the library holds internal locks: it must return
 * quickly and must not call any `xnano_*` function other than
 * `xnano_version`, `xnano_result_name` and `xnano_last_error`.
 */
typedef void (*xnano_log_callback)(void *user_data, xnano_log_level level, const char *target, const char *message);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The ABI version of the loaded library (`XNANO_ABI_VERSION` of the header
 * it was built with). A program or binding compares it with the
 * `XNANO_ABI_VERSION` it was compiled against and refuses to go on when
 * they differ: structs, results and callbacks would not mean the same.
 */
uint32_t xnano_abi_version(void);

/**
 * The library's version, "MAJOR.MINOR.PATCH" as in Cargo.toml (the same
 * text as `XNANO_VERSION_STRING` of the header it was built with). Static
 * storage: never free it.
 */
const char *xnano_version(void);

/**
 * The message of the last failed `xnano_*` call on the calling thread
 * ("" when none failed yet). Thread-local; valid until the next failing
 * call on this thread. Never NULL; never free it.
 */
const char *xnano_last_error(void);

/**
 * The name of a result code ("XNANO_OK", "XNANO_ERR_NULL"...); static
 * storage. Unknown values give "XNANO_ERR_UNKNOWN".
 */
const char *xnano_result_name(uint32_t result);

/**
 * Fills `out_config` with the default client settings.
 */
xnano_result xnano_client_config_default(struct xnano_client_config *out_config);

/**
 * Creates a client in XNANO_STATE_IDLE. `config` may be NULL for the
 * defaults; it is copied. Set the callbacks next, then connect. Free with
 * `xnano_client_free`.
 */
xnano_result xnano_client_new(const struct xnano_client_config *config, struct xnano_client **out_client);

/**
 * Sets (NULL: removes) the video frame callback. Only in XNANO_STATE_IDLE.
 */
xnano_result xnano_client_set_video_callback(struct xnano_client *client, xnano_video_callback callback, void *user_data);

/**
 * Sets (NULL: removes) the audio packet callback. Only in XNANO_STATE_IDLE.
 */
xnano_result xnano_client_set_audio_callback(struct xnano_client *client, xnano_audio_callback callback, void *user_data);

/**
 * Sets (NULL: removes) the rumble callback. Only in XNANO_STATE_IDLE.
 */
xnano_result xnano_client_set_rumble_callback(struct xnano_client *client, xnano_rumble_callback callback, void *user_data);

/**
 * Sets (NULL: removes) the state change callback. Only in XNANO_STATE_IDLE.
 */
xnano_result xnano_client_set_state_callback(struct xnano_client *client, xnano_state_callback callback, void *user_data);

/**
 * Connects straight to a Nano host (a console whose gamestream was
 * started elsewhere, or the simulated console): `host` is a name or IP
 * address, `tcp_port` the control port, `udp_port` the data port. Blocks
 * until the TCP connection is up (at most `connect_timeout_ms`), then
 * returns in XNANO_STATE_CONNECTING; the rest is reported through the
 * state callback / events. Only in XNANO_STATE_IDLE; on failure the client
 * stays IDLE and may be connected again.
 */
xnano_result xnano_client_connect_nano(struct xnano_client *client, const char *host, uint16_t tcp_port, uint16_t udp_port);

/**
 * Starts a gamestream over SmartGlass: asks the connected `console` to
 * start streaming with `config` (NULL: the defaults; it is copied), waits
 * until the console's Nano host is up and connects this client to it.
 * From then on the client works exactly as after
 * `xnano_client_connect_nano`: the same callbacks, events, input, stats,
 * stop and free; `xnano_client_stop` also tells the console to stop
 * streaming. The client's config applies, except that the gamestream
 * keys "videoPacketDefragTimeoutMs", "inputReadsPerSecond" and
 * "enableAudioChat" override its defrag timeout, input rate and chat
 * audio. Blocks up to the console's `wait_timeout_ms` (twice: channel and
 * stream); returns in XNANO_STATE_CONNECTING or later. Only in
 * XNANO_STATE_IDLE, with the console connected and no other client
 * streaming through it (XNANO_ERR_WRONG_STATE); XNANO_ERR_REFUSED when
 * the console refuses the stream; XNANO_ERR_FROM_CALLBACK from inside the
 * console's event callback. On failure the client stays IDLE (no callback
 * was called) and may be connected again.
 */
xnano_result xnano_client_connect_console(struct xnano_client *client, struct xnano_console *console, const struct xnano_gamestream_config *config);

/**
 * Writes the client's current state to `out_state`.
 */
xnano_result xnano_client_get_state(const struct xnano_client *client, xnano_state *out_state);

/**
 * Sets the state of controller `controller` (0..=3). The first call
 * announces the controller to the console, which then opens its input
 * channel; changes are sent as input frames (at most
 * `input_reads_per_second`). Allowed from XNANO_STATE_CONNECTING on: a
 * state set before the console opened input is sent once it has.
 */
xnano_result xnano_client_set_controller_state(struct xnano_client *client, uint8_t controller, const struct xnano_controller_state *state);

/**
 * Announces (`connected` true) or removes a controller (0..=3).
 */
xnano_result xnano_client_set_controller_connected(struct xnano_client *client, uint8_t controller, bool connected);

/**
 * Asks the console for a keyframe. Needs XNANO_STATE_CONNECTED or later.
 */
xnano_result xnano_client_request_keyframe(struct xnano_client *client);

/**
 * Sends a Change Video Quality message: `count` must be 6 (the six
 * values of the message; their meaning is undocumented).
 */
xnano_result xnano_client_change_video_quality(struct xnano_client *client, const uint32_t *values, size_t count);

/**
 * Sends one encoded microphone packet (in the ChatAudio format) to the
 * console. `data` is copied.
 */
xnano_result xnano_client_send_chat_audio(struct xnano_client *client, const uint8_t *data, size_t len);

/**
 * Writes the session statistics to `out_stats`. Works in every state
 * (zeros before connecting, the final numbers after a stop); fails with
 * XNANO_ERR_WRONG_STATE only while a stop is in progress.
 */
xnano_result xnano_client_get_stats(const struct xnano_client *client, struct xnano_client_stats *out_stats);

/**
 * Takes the next queued event (pull mode; needs
 * `event_queue_capacity` > 0 in the config), waiting up to `timeout_ms`
 * (0: do not wait). On XNANO_OK `*out_event` owns a new event: free it
 * with `xnano_event_free`. XNANO_ERR_TIMEOUT: nothing arrived in time.
 * XNANO_ERR_CLOSED: the session is closed and every event (including the
 * final CLOSED state event) was taken. XNANO_ERR_WRONG_STATE: not
 * connected yet, or no queue configured. Any thread may call it, also
 * while another thread stops the client; not after `xnano_client_free`.
 */
xnano_result xnano_client_next_event(struct xnano_client *client, uint32_t timeout_ms, struct xnano_event **out_event);

/**
 * Frees an event from `xnano_client_next_event` with everything it owns.
 * NULL is accepted. The event's pointers are invalid afterwards.
 */
void xnano_event_free(struct xnano_event *event);

/**
 * Stops the session: tells the console, closes the sockets, joins the
 * library's threads. When it returns no callback of this client runs any
 * more; the state callback got XNANO_STATE_CLOSED (from this call, on this
 * thread, with XNANO_OK, unless the session had closed before). Statistics
 * stay readable. Stopping a stopped or never connected client is XNANO_OK.
 * Called while another thread stops or frees the same client, it waits
 * until that one has joined the threads, so the promise holds for both.
 * Returns XNANO_ERR_FROM_CALLBACK (and does nothing) when called from one
 * of this client's callbacks.
 */
xnano_result xnano_client_stop(struct xnano_client *client);

/**
 * Stops the client if needed (see `xnano_client_stop`) and frees it. NULL
 * is accepted. Never fails; the handle is invalid once it returns. A free
 * racing a stop of the same client on another thread waits for that stop.
 * Called from inside one of this client's callbacks, it cannot wait for
 * the library's threads (the caller is one of them): no callback of this
 * client is called after the running one returns, and the library stops
 * the session and releases the handle on a thread of its own once the
 * callback's thread has ended.
 */
void xnano_client_free(struct xnano_client *client);

/**
 * Fills `out_config` with the default console settings (anonymous).
 */
xnano_result xnano_console_config_default(struct xnano_console_config *out_config);

/**
 * Creates a console handle in XNANO_CONSOLE_STATE_IDLE. Set the event
 * callback next (optional), then connect. Free with `xnano_console_free`.
 */
xnano_result xnano_console_new(struct xnano_console **out_console);

/**
 * Sets (NULL: removes) the event callback. Only in
 * XNANO_CONSOLE_STATE_IDLE. It is called on the console's socket thread;
 * the events that arrive while `xnano_console_connect` runs (CONNECTED
 * among them) are delivered on the thread calling it, before it returns;
 * the final CLOSED of `xnano_console_disconnect` on the socket thread or
 * on the thread calling that, before it returns. Calls never overlap.
 */
xnano_result xnano_console_set_event_callback(struct xnano_console *console, xnano_console_event_callback callback, void *user_data);

/**
 * Connects to the console at `address` ("host" or "host:port", port 5050
 * when absent, e.g. the `address` of an `xnano_console_info`): fetches
 * its certificate by unicast discovery, agrees the keys, connects
 * (anonymously unless `config` has credentials) and waits until the
 * console accepts; the system channels are then opened in the background.
 * `config` NULL: defaults. Blocks up to `discovery_timeout_ms` +
 * `wait_timeout_ms`. Only in XNANO_CONSOLE_STATE_IDLE; on failure the
 * console stays IDLE (no callback was called) and may be connected again.
 * Errors: XNANO_ERR_NOT_FOUND (no answer to discovery), XNANO_ERR_REFUSED
 * (connection refused, or anonymous connections not allowed),
 * XNANO_ERR_TIMEOUT, XNANO_ERR_IO; XNANO_ERR_CLOSED when another thread
 * disconnected or freed the console meanwhile.
 */
xnano_result xnano_console_connect(struct xnano_console *console, const char *address, const struct xnano_console_config *config);

/**
 * Writes the console's state to `out_state`.
 */
xnano_result xnano_console_get_state(const struct xnano_console *console, xnano_console_state *out_state);

/**
 * Writes what discovery said about the connected console to `out_info`.
 * Needs a connected (or closed) console.
 */
xnano_result xnano_console_get_info(const struct xnano_console *console, struct xnano_console_info *out_info);

/**
 * Takes the next queued event (pull mode; needs `event_queue_capacity` >
 * 0 in the config given to `xnano_console_connect`), waiting up to
 * `timeout_ms` (0: do not wait). On XNANO_OK `*out_event` owns a new
 * event: free it with `xnano_console_event_free`. XNANO_ERR_TIMEOUT:
 * nothing arrived in time. XNANO_ERR_CLOSED: the session is closed and
 * every event (CLOSED included) was taken. XNANO_ERR_WRONG_STATE: not
 * connected, or no queue configured.
 */
xnano_result xnano_console_next_event(struct xnano_console *console, uint32_t timeout_ms, struct xnano_console_event **out_event);

/**
 * Frees an event from `xnano_console_next_event`. NULL is accepted.
 */
void xnano_console_event_free(struct xnano_console_event *event);

/**
 * Writes the number of events dropped because the event queue was full.
 */
xnano_result xnano_console_events_dropped(const struct xnano_console *console, uint64_t *out_count);

/**
 * Disconnects: tells the console goodbye and joins the session's thread.
 * A gamestream started with `xnano_client_connect_console` is not stopped
 * by this (the console usually ends it; the client then reports CLOSED).
 * The CLOSED event (XNANO_OK) is delivered (on the socket thread or on
 * this one) before it returns; no callback of this console runs
 * afterwards. Disconnecting an idle or disconnected console is XNANO_OK.
 * Called while another thread connects, disconnects or frees the same
 * console, it waits for that call; a connect it waited for fails with
 * XNANO_ERR_CLOSED without having called back. XNANO_ERR_FROM_CALLBACK
 * (and nothing done) from inside this console's callback.
 */
xnano_result xnano_console_disconnect(struct xnano_console *console);

/**
 * Disconnects if needed (see `xnano_console_disconnect`) and frees the
 * console. NULL is accepted. Never fails; the handle is invalid once it
 * returns. A free racing a connect or disconnect of the same console on
 * another thread waits for it. Called from inside this console's
 * callback, it cannot wait for the socket thread (the caller is on it):
 * no callback of this console is called after the running one returns,
 * and the library disconnects and releases the handle on a thread of its
 * own once the callback's thread has ended.
 */
void xnano_console_free(struct xnano_console *console);

/**
 * Powers the console off (it disconnects us: CLOSED with XNANO_ERR_CLOSED
 * follows). Needs a connected console.
 */
xnano_result xnano_console_power_off(struct xnano_console *console);

/**
 * Launches a title or URI (e.g. "ms-xbl-4C3A3D2A://default") at
 * `location` (XNANO_TITLE_LOCATION_*).
 */
xnano_result xnano_console_launch_title(struct xnano_console *console, const char *uri, uint32_t location);

/**
 * Sends a media command (XNANO_MEDIA_*, one of them) to the title
 * `title_id` (from a MEDIA_STATE event) on the SystemMedia channel.
 * `seek_position` is used with XNANO_MEDIA_SEEK only. `out_request_id`
 * (may be NULL) receives the request id that the console's
 * MediaCommandResult (an OTHER event) refers to.
 */
xnano_result xnano_console_media_command(struct xnano_console *console, uint32_t title_id, uint32_t command, uint64_t seek_position, uint64_t *out_request_id);

/**
 * Sends a gamepad state on the SystemInput channel (released buttons are
 * sent as a state without them).
 */
xnano_result xnano_console_gamepad(struct xnano_console *console, const struct xnano_gamepad *state);

/**
 * Replaces the text of the console's active text session (after a
 * TEXT_CONFIGURATION event) with `text`. XNANO_ERR_WRONG_STATE when no
 * text session is active.
 */
xnano_result xnano_console_send_text(struct xnano_console *console, const char *text);

/**
 * Acknowledges version `version` of the text session `text_session_id`
 * (TEXT_INPUT events are acknowledged automatically; this is for
 * programs that track versions themselves).
 */
xnano_result xnano_console_text_acknowledge(struct xnano_console *console, uint32_t text_session_id, uint32_t version);

/**
 * Ends the active text session: `result` XNANO_TEXT_RESULT_ACCEPT (keep
 * the text) or XNANO_TEXT_RESULT_CANCEL. XNANO_ERR_WRONG_STATE when no
 * text session is active.
 */
xnano_result xnano_console_text_done(struct xnano_console *console, uint32_t result);

/**
 * Records a game DVR clip from `start_delta_s` to `end_delta_s` seconds
 * relative to now (e.g. -30, 0 for the last 30 seconds).
 */
xnano_result xnano_console_game_dvr_record(struct xnano_console *console, int32_t start_delta_s, int32_t end_delta_s);

/**
 * Unsnaps the snapped app.
 */
xnano_result xnano_console_unsnap(struct xnano_console *console);

/**
 * Discovers consoles. With `address` ("host" or "host:port", port 5050
 * when absent) a unicast request goes to that console and the call
 * returns as soon as it answers (or after `timeout_ms`); with NULL,
 * requests are broadcast and multicast on the local network and answers
 * are collected for the whole `timeout_ms`. Finding nothing is XNANO_OK
 * with a count of 0. On XNANO_OK `*out_discovery` is a new list: read it
 * with `xnano_discovery_count` / `xnano_discovery_get`, free it with
 * `xnano_discovery_free`. Blocks the calling thread.
 */
xnano_result xnano_discover(const char *address, uint32_t timeout_ms, struct xnano_discovery **out_discovery);

/**
 * Writes the number of consoles found to `out_count`.
 */
xnano_result xnano_discovery_count(const struct xnano_discovery *discovery, size_t *out_count);

/**
 * Copies console number `index` (0-based, below the count) to `out_info`.
 * XNANO_ERR_INVALID_ARGUMENT when `index` is out of range.
 */
xnano_result xnano_discovery_get(const struct xnano_discovery *discovery, size_t index, struct xnano_console_info *out_info);

/**
 * Frees a discovery list. NULL is accepted.
 */
void xnano_discovery_free(struct xnano_discovery *discovery);

/**
 * Powers a console on by its Live ID: power-on requests go to the local
 * network's broadcast and multicast addresses and, when `address` is not
 * NULL ("host" or "host:port"), to that address; `tries` rounds 100 ms
 * apart (0: the reference's 2). Returns once they are sent (XNANO_ERR_IO
 * when none could be sent); whether the console woke up shows in a later
 * `xnano_discover`. Blocks for about `tries` x 100 ms.
 */
xnano_result xnano_power_on(const char *live_id, const char *address, uint32_t tries);

/**
 * Creates a gamestream configuration with the defaults (1280x720 at 60
 * fps, AAC audio, chat audio on, ...). Free with
 * `xnano_gamestream_config_free`.
 */
xnano_result xnano_gamestream_config_new(struct xnano_gamestream_config **out_config);

/**
 * Sets one key by its protocol name (as the console's JSON spells it:
 * "videoMaximumWidth", "videoMaximumHeight", "videoMaximumFrameRate",
 * "enableOpusAudio", "enableAudioChat", "urcpMaximumRate",
 * "videoPacketDefragTimeoutMs", "inputReadsPerSecond",
 * "reQueryPreviewStatus"... every key of the StartGameStream
 * configuration) from its text form: integers, numbers, or true/false.
 * XNANO_ERR_INVALID_ARGUMENT for an unknown key or a value of the wrong
 * type (the configuration is then unchanged). The values the Nano client
 * also uses (defrag timeout, input rate, chat audio) override the
 * client's own settings.
 */
xnano_result xnano_gamestream_config_set(struct xnano_gamestream_config *config, const char *key, const char *value);

/**
 * Copies the text form of `key` into `buffer` (`buffer_size` bytes, NUL
 * included) and its length without the NUL to `out_len`.
 * XNANO_ERR_BUFFER_TOO_SMALL (with nothing written) when it does not fit;
 * XNANO_ERR_INVALID_ARGUMENT for an unknown key.
 */
xnano_result xnano_gamestream_config_get(const struct xnano_gamestream_config *config, const char *key, char *buffer, size_t buffer_size, size_t *out_len);

/**
 * Frees a gamestream configuration. NULL is accepted. The client that
 * used it does not need it any more.
 */
void xnano_gamestream_config_free(struct xnano_gamestream_config *config);

/**
 * Sets (or with `callback` NULL removes) the process-wide log callback and
 * the most verbose level passed to it (`max_level`, one of
 * `xnano_log_level`). When this function returns, the previous callback is
 * not running and will not be called again, so its `user_data` may be
 * freed. Fails with XNANO_ERR_WRONG_STATE when the host program already
 * installed another logger for the Rust `log` crate, and with
 * XNANO_ERR_FROM_CALLBACK when called from inside the log callback.
 */
xnano_result xnano_set_log_callback(xnano_log_callback callback, void *user_data, uint32_t max_level);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* XNANO_H */
