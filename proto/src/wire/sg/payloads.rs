//! Payloads of SmartGlass messages (docs/protocol.md#message-payloads;
//! layouts the published notes get wrong follow
//! docs/protocol.md#smartglass-entries and the reference
//! `packet/message.py`), and [`MessagePayload`], which dispatches on
//! [`MessageType`].
//!
//! Every payload has `decode(&mut Reader)` and `encode(&self, &mut Vec<u8>)
//! -> Result<(), WireError>` (encoding fails only when a string or list is
//! too long for its length prefix, or fields contradict each other).

use serde::Serialize;

use crate::wire::sg::common::{
    put_prefixed_bytes, put_sg_string, read_guid, read_prefixed_bytes, read_sg_string, u16_count,
    ClientType, DeviceCapabilities, Guid, PairedIdentityState,
};
use crate::wire::{hexbytes, uuid_text, Put, Reader, WireError};
use crate::{wire_enum, wire_flags};

wire_enum! {
    /// Message type (low 12 bits of the header flags).
    pub enum MessageType: u16 {
        /// Null.
        Null = 0x0,
        /// Acknowledgement / heartbeat.
        Ack = 0x1,
        /// Group.
        Group = 0x2,
        /// Local join (pairing).
        LocalJoin = 0x3,
        /// Stop activity.
        StopActivity = 0x5,
        /// Auxiliary stream (the reference spells it `AuxilaryStream`).
        AuxilaryStream = 0x19,
        /// Active surface change.
        ActiveSurfaceChange = 0x1A,
        /// Navigate.
        Navigate = 0x1B,
        /// JSON.
        Json = 0x1C,
        /// Tunnel.
        Tunnel = 0x1D,
        /// Console status.
        ConsoleStatus = 0x1E,
        /// Title text configuration.
        TitleTextConfiguration = 0x1F,
        /// Title text input.
        TitleTextInput = 0x20,
        /// Title text selection.
        TitleTextSelection = 0x21,
        /// Mirroring request.
        MirroringRequest = 0x22,
        /// Title launch.
        TitleLaunch = 0x23,
        /// Channel start request.
        StartChannelRequest = 0x26,
        /// Channel start response.
        StartChannelResponse = 0x27,
        /// Channel stop.
        StopChannel = 0x28,
        /// System.
        System = 0x29,
        /// Disconnect.
        Disconnect = 0x2A,
        /// Title touch.
        TitleTouch = 0x2E,
        /// Accelerometer.
        Accelerometer = 0x2F,
        /// Gyrometer.
        Gyrometer = 0x30,
        /// Inclinometer.
        Inclinometer = 0x31,
        /// Compass.
        Compass = 0x32,
        /// Orientation.
        Orientation = 0x33,
        /// Paired identity state changed.
        PairedIdentityStateChanged = 0x36,
        /// Unsnap.
        Unsnap = 0x37,
        /// Game DVR record.
        GameDvrRecord = 0x38,
        /// Power off.
        PowerOff = 0x39,
        /// Media controller removed.
        MediaControllerRemoved = 0xF00,
        /// Media command.
        MediaCommand = 0xF01,
        /// Media command result.
        MediaCommandResult = 0xF02,
        /// Media state.
        MediaState = 0xF03,
        /// Gamepad.
        Gamepad = 0xF0A,
        /// System text configuration.
        SystemTextConfiguration = 0xF2B,
        /// System text input.
        SystemTextInput = 0xF2C,
        /// System touch.
        SystemTouch = 0xF2E,
        /// System text acknowledge.
        SystemTextAck = 0xF34,
        /// System text done.
        SystemTextDone = 0xF35,
    }
}

/// A piece of a fragmented message: the messages with sequence numbers
/// `sequence_begin..sequence_end` carry consecutive pieces of one payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fragment {
    /// First sequence number of the set.
    pub sequence_begin: u32,
    /// One past the last sequence number of the set.
    pub sequence_end: u32,
    /// This piece (u16-length-prefixed on the wire).
    #[serde(with = "hexbytes")]
    pub data: Vec<u8>,
}

impl Fragment {
    /// Decodes a fragment payload.
    pub fn decode(buf: &[u8]) -> Result<Fragment, WireError> {
        let mut r = Reader::new(buf, "fragment");
        let sequence_begin = r.u32_be("sequence_begin")?;
        let sequence_end = r.u32_be("sequence_end")?;
        let len = r.u16_be("data")? as usize;
        let data = r.bytes(len, "data")?.to_vec();
        r.finish()?;
        Ok(Fragment {
            sequence_begin,
            sequence_end,
            data,
        })
    }

    /// Encodes a fragment payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.sequence_begin);
        out.put_u32_be(self.sequence_end);
        crate::wire::sg::common::put_prefixed_bytes(out, &self.data, "fragment", "data")
    }

    /// Splits a plaintext payload into fragments of at most `chunk` bytes for
    /// the sequence numbers starting at `first_sequence` (one per fragment).
    pub fn split(payload: &[u8], first_sequence: u32, chunk: usize) -> Vec<Fragment> {
        let chunk = chunk.clamp(1, u16::MAX as usize);
        let n = payload.len().div_ceil(chunk).max(1) as u32;
        let end = first_sequence.wrapping_add(n);
        if payload.is_empty() {
            return vec![Fragment {
                sequence_begin: first_sequence,
                sequence_end: end,
                data: Vec::new(),
            }];
        }
        payload
            .chunks(chunk)
            .map(|c| Fragment {
                sequence_begin: first_sequence,
                sequence_end: end,
                data: c.to_vec(),
            })
            .collect()
    }
}

/// Acknowledgement (message type 0x01); with empty lists also a heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Acknowledge {
    /// Highest sequence number below which all were processed.
    pub low_watermark: u32,
    /// Processed sequence numbers.
    pub processed_list: Vec<u32>,
    /// Rejected sequence numbers.
    pub rejected_list: Vec<u32>,
}

impl Acknowledge {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Acknowledge, WireError> {
        let low_watermark = r.u32_be("low_watermark")?;
        let processed_list = read_u32_list(r, "processed_list")?;
        let rejected_list = read_u32_list(r, "rejected_list")?;
        Ok(Acknowledge {
            low_watermark,
            processed_list,
            rejected_list,
        })
    }

    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.low_watermark);
        for l in [&self.processed_list, &self.rejected_list] {
            let n = u32::try_from(l.len())
                .map_err(|_| WireError::invalid("acknowledge", "list", "too long"))?;
            out.put_u32_be(n);
            for v in l {
                out.put_u32_be(*v);
            }
        }
        Ok(())
    }
}

fn read_u32_list(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u32>, WireError> {
    let n = r.u32_be(field)?;
    let n = r.count(n as u64, 4, field)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(r.u32_be(field)?);
    }
    Ok(v)
}

wire_enum! {
    /// Where a title runs on screen.
    pub enum ActiveTitleLocation: u16 {
        /// Full screen.
        Full = 0x0,
        /// Fill.
        Fill = 0x1,
        /// Snapped.
        Snapped = 0x2,
        /// Start view.
        StartView = 0x3,
        /// System UI.
        SystemUI = 0x4,
        /// Default.
        Default = 0x5,
    }
}

wire_enum! {
    /// Active surface type.
    pub enum ActiveSurfaceType: u16 {
        /// Blank.
        Blank = 0x0,
        /// Direct.
        Direct = 0x1,
        /// HTML.
        HTML = 0x2,
        /// Title text entry.
        TitleTextEntry = 0x3,
    }
}

wire_enum! {
    /// Disconnect reason.
    pub enum DisconnectReason: u32 {
        /// Unspecified.
        Unspecified = 0x0,
        /// Error.
        Error = 0x1,
        /// Power off.
        PowerOff = 0x2,
        /// Maintenance.
        Maintenance = 0x3,
        /// App close.
        AppClose = 0x4,
        /// Sign out.
        SignOut = 0x5,
        /// Reboot.
        Reboot = 0x6,
        /// Disabled.
        Disabled = 0x7,
        /// Low power.
        LowPower = 0x8,
    }
}

wire_enum! {
    /// Media type.
    pub enum MediaType: u16 {
        /// No media.
        NoMedia = 0x0,
        /// Music.
        Music = 0x1,
        /// Video.
        Video = 0x2,
        /// Image.
        Image = 0x3,
        /// Conversation.
        Conversation = 0x4,
        /// Game.
        Game = 0x5,
    }
}

wire_enum! {
    /// Sound level.
    pub enum SoundLevel: u16 {
        /// Muted.
        Muted = 0x0,
        /// Low.
        Low = 0x1,
        /// Full.
        Full = 0x2,
    }
}

wire_enum! {
    /// Media playback status (u16 on the wire,
    /// docs/protocol.md#overrule-media-state-layout).
    pub enum MediaPlaybackStatus: u16 {
        /// Closed.
        Closed = 0x0,
        /// Changing.
        Changing = 0x1,
        /// Stopped.
        Stopped = 0x2,
        /// Playing.
        Playing = 0x3,
        /// Paused.
        Paused = 0x4,
    }
}

wire_enum! {
    /// Touch action.
    pub enum TouchAction: u16 {
        /// Null.
        Null = 0x0,
        /// Down.
        Down = 0x1,
        /// Move.
        Move = 0x2,
        /// Up.
        Up = 0x3,
        /// Cancel.
        Cancel = 0x4,
    }
}

wire_enum! {
    /// Text result (u32 in system text done, u16 in title text input).
    pub enum TextResult: u32 {
        /// Cancel.
        Cancel = 0x0,
        /// Accept.
        Accept = 0x1,
        /// Null.
        Null = 0xFFFF,
    }
}

wire_enum! {
    /// Text input scope (the reference's value 0x39 `Unknown` shows as an
    /// unknown value with the same name).
    pub enum TextInputScope: u32 {
        /// Default.
        Default = 0x0,
        /// Url.
        Url = 0x1,
        /// FullFilePath.
        FullFilePath = 0x2,
        /// FileName.
        FileName = 0x3,
        /// EmailUserName.
        EmailUserName = 0x4,
        /// EmailSmtpAddress.
        EmailSmtpAddress = 0x5,
        /// LogOnName.
        LogOnName = 0x6,
        /// PersonalFullName.
        PersonalFullName = 0x7,
        /// PersonalNamePrefix.
        PersonalNamePrefix = 0x8,
        /// PersonalGivenName.
        PersonalGivenName = 0x9,
        /// PersonalMiddleName.
        PersonalMiddleName = 0xA,
        /// PersonalSurname.
        PersonalSurname = 0xB,
        /// PersonalNameSuffix.
        PersonalNameSuffix = 0xC,
        /// PostalAddress.
        PostalAddress = 0xD,
        /// PostalCode.
        PostalCode = 0xE,
        /// AddressStreet.
        AddressStreet = 0xF,
        /// AddressStateOrProvince.
        AddressStateOrProvince = 0x10,
        /// AddressCity.
        AddressCity = 0x11,
        /// AddressCountryName.
        AddressCountryName = 0x12,
        /// AddressCountryShortName.
        AddressCountryShortName = 0x13,
        /// CurrencyAmountAndSymbol.
        CurrencyAmountAndSymbol = 0x14,
        /// CurrencyAmount.
        CurrencyAmount = 0x15,
        /// Date.
        Date = 0x16,
        /// DateMonth.
        DateMonth = 0x17,
        /// DateDay.
        DateDay = 0x18,
        /// DateYear.
        DateYear = 0x19,
        /// DateMonthName.
        DateMonthName = 0x1A,
        /// DateDayName.
        DateDayName = 0x1B,
        /// Digits.
        Digits = 0x1C,
        /// Number.
        Number = 0x1D,
        /// OneChar.
        OneChar = 0x1E,
        /// Password.
        Password = 0x1F,
        /// TelephoneNumber.
        TelephoneNumber = 0x20,
        /// TelephoneCountryCode.
        TelephoneCountryCode = 0x21,
        /// TelephoneAreaCode.
        TelephoneAreaCode = 0x22,
        /// TelephoneLocalNumber.
        TelephoneLocalNumber = 0x23,
        /// Time.
        Time = 0x24,
        /// TimeHour.
        TimeHour = 0x25,
        /// TimeMinorSec.
        TimeMinorSec = 0x26,
        /// NumberFullWidth.
        NumberFullWidth = 0x27,
        /// AlphanumericHalfWidth.
        AlphanumericHalfWidth = 0x28,
        /// AlphanumericFullWidth.
        AlphanumericFullWidth = 0x29,
        /// CurrencyChinese.
        CurrencyChinese = 0x2A,
        /// Bopomofo.
        Bopomofo = 0x2B,
        /// Hiragana.
        Hiragana = 0x2C,
        /// KatakanaHalfWidth.
        KatakanaHalfWidth = 0x2D,
        /// KatakanaFullWidth.
        KatakanaFullWidth = 0x2E,
        /// Hanja.
        Hanja = 0x2F,
        /// HangulHalfWidth.
        HangulHalfWidth = 0x30,
        /// HangulFullWidth.
        HangulFullWidth = 0x31,
        /// Search.
        Search = 0x32,
        /// SearchTitleText.
        SearchTitleText = 0x33,
        /// SearchIncremental.
        SearchIncremental = 0x34,
        /// ChineseHalfWidth.
        ChineseHalfWidth = 0x35,
        /// ChineseFullWidth.
        ChineseFullWidth = 0x36,
        /// NativeScript.
        NativeScript = 0x37,
    }
}

wire_enum! {
    /// SmartGlass result code (channel start response).
    #[allow(non_camel_case_types)]
    pub enum SGResultCode: u32 {
        /// Success.
        SG_E_SUCCESS = 0x0,
        /// Abort.
        SG_E_ABORT = 0x80000004,
        /// Access denied.
        SG_E_ACCESS_DENIED = 0x80000005,
        /// Failure.
        SG_E_FAIL = 0x80000006,
        /// Bad handle.
        SG_E_HANDLE = 0x80000007,
        /// Invalid argument.
        SG_E_INVALID_ARG = 0x80000008,
        /// No interface.
        SG_E_NO_INTERFACE = 0x80000009,
        /// Not implemented.
        SG_E_NOT_IMPL = 0x8000000A,
        /// Out of memory.
        SG_E_OUT_OF_MEMORY = 0x8000000B,
        /// Bad pointer.
        SG_E_POINTER = 0x8000000C,
        /// Unexpected.
        SG_E_UNEXPECTED = 0x8000000D,
        /// Pending.
        SG_E_PENDING = 0x8000000E,
        /// Invalid data.
        SG_E_INVALID_DATA = 0x8000000F,
        /// Canceled.
        SG_E_CANCELED = 0x80000010,
        /// Invalid state.
        SG_E_INVALID_STATE = 0x80000011,
        /// Not found.
        SG_E_NOT_FOUND = 0x80000012,
        /// No more capacity.
        SG_E_NO_MORE_CAPACITY = 0x80000013,
        /// Failed to start thread.
        SG_E_FAILED_TO_START_THREAD = 0x80000014,
        /// Message expired.
        SG_E_MESSAGE_EXPIRED = 0x80000015,
        /// Timed out.
        SG_E_TIMED_OUT = 0x80000016,
        /// Not initialized.
        SG_E_NOT_INITIALIZED = 0x80000017,
        /// JSON length exceeded.
        SG_E_JSON_LENGTH_EXCEEDED = 0x80000018,
        /// Message length exceeded.
        SG_E_MESSAGE_LENGTH_EXCEEDED = 0x80000019,
        /// Invalid configuration.
        SG_E_INVALID_CONFIGURATION = 0x8000001A,
        /// Expired configuration.
        SG_E_EXPIRED_CONFIGURATION = 0x8000001B,
        /// Authentication required.
        SG_E_AUTH_REQUIRED = 0x8000001D,
        /// Presence timed out.
        SG_E_TIMED_OUT_PRESENCE = 0x8000001E,
        /// Connect timed out.
        SG_E_TIMED_OUT_CONNECT = 0x8000001F,
        /// Socket error.
        SG_E_SOCKET_ERROR = 0x80010001,
        /// HTTP error.
        SG_E_HTTP_ERROR = 0x80020001,
        /// Cancel shutdown.
        SG_E_CANCEL_SHUTDOWN = 0x80020002,
        /// HTTP status.
        SG_E_HTTP_STATUS = 0x80020003,
        /// Unexpected crypto error.
        SG_E_UNEXPECTED_CRYPTO_ERROR = 0x80030001,
        /// Invalid crypto argument.
        SG_E_INVALID_CRYPT_ARG = 0x80030002,
        /// Invalid signature.
        SG_E_CRYPTO_INVALID_SIGNATURE = 0x80030003,
        /// Invalid certificate.
        SG_E_INVALID_CERTIFICATE = 0x80030004,
        /// Channel request unknown error.
        SG_E_CHANNEL_REQUEST_UNKNOWN_ERROR = 0x80040105,
        /// Failed to join.
        SG_E_FAILED_TO_JOIN = 0x80060001,
        /// Already connected.
        SG_E_ALREADY_CONNECTED = 0x80060002,
        /// Not connected.
        SG_E_NOT_CONNECTED = 0x80060003,
        /// Console not responding.
        SG_E_CONSOLE_NOT_RESPONDING = 0x80060004,
        /// Console disconnecting.
        SG_E_CONSOLE_DISCONNECTING = 0x80060005,
        /// String not terminated.
        SG_E_BIG_ENDIAN_STREAM_STRING_NOT_TERMINATED = 0x80070001,
        /// Channel already started.
        SG_E_CHANNEL_ALREADY_STARTED = 0x80080001,
        /// Channel failed to start.
        SG_E_CHANNEL_FAILED_TO_START = 0x80080002,
        /// Maximum channels started.
        SG_E_MAXIMUM_CHANNELS_STARTED = 0x80080003,
        /// JNI class not found.
        SG_E_JNI_CLASS_NOT_FOUND = 0x80090001,
        /// JNI method not found.
        SG_E_JNI_METHOD_NOT_FOUND = 0x80090002,
        /// JNI runtime error.
        SG_E_JNI_RUNTIME_ERROR = 0x80090003,
    }
}

wire_flags! {
    /// Gamepad buttons: a bitmask, several can be down at once (the
    /// reference names single buttons `PadA`...).
    pub struct GamepadButtons: u16 {
        /// No button.
        const Clear = 0x0;
        /// Enroll.
        const Enroll = 0x1;
        /// Nexus (guide).
        const Nexus = 0x2;
        /// Menu.
        const Menu = 0x4;
        /// View.
        const View = 0x8;
        /// A.
        const PadA = 0x10;
        /// B.
        const PadB = 0x20;
        /// X.
        const PadX = 0x40;
        /// Y.
        const PadY = 0x80;
        /// D-pad up.
        const DPadUp = 0x100;
        /// D-pad down.
        const DPadDown = 0x200;
        /// D-pad left.
        const DPadLeft = 0x400;
        /// D-pad right.
        const DPadRight = 0x800;
        /// Left shoulder.
        const LeftShoulder = 0x1000;
        /// Right shoulder.
        const RightShoulder = 0x2000;
        /// Left thumbstick.
        const LeftThumbStick = 0x4000;
        /// Right thumbstick.
        const RightThumbStick = 0x8000;
    }
}

wire_flags! {
    /// Media control commands (a bitmask in media state's enabled commands).
    pub struct MediaControlCommand: u32 {
        /// None.
        const Null = 0x0;
        /// Play.
        const Play = 0x2;
        /// Pause.
        const Pause = 0x4;
        /// Play/pause toggle.
        const PlayPauseToggle = 0x8;
        /// Stop.
        const Stop = 0x10;
        /// Record.
        const Record = 0x20;
        /// Next track.
        const NextTrack = 0x40;
        /// Previous track.
        const PreviousTrack = 0x80;
        /// Fast forward.
        const FastForward = 0x100;
        /// Rewind.
        const Rewind = 0x200;
        /// Channel up.
        const ChannelUp = 0x400;
        /// Channel down.
        const ChannelDown = 0x800;
        /// Back.
        const Back = 0x1000;
        /// View.
        const View = 0x2000;
        /// Menu.
        const Menu = 0x4000;
        /// Seek (the command carries a seek position).
        const Seek = 0x8000;
    }
}

wire_flags! {
    /// Text option flags.
    pub struct TextOptions: u32 {
        /// Default.
        const Default = 0x0;
        /// Accepts return.
        const AcceptsReturn = 0x1;
        /// Password.
        const Password = 0x2;
        /// Multi-line.
        const MultiLine = 0x4;
        /// Spell check.
        const SpellCheckEnabled = 0x8;
        /// Prediction.
        const PredictionEnabled = 0x10;
        /// Right to left.
        const RTL = 0x20;
        /// Dismiss.
        const Dismiss = 0x4000;
    }
}

// ---------------------------------------------------------------------------

/// Local join (0x03): pairs the client with the console.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalJoin {
    /// Device type.
    pub device_type: ClientType,
    /// Native width.
    pub native_width: u16,
    /// Native height.
    pub native_height: u16,
    /// DPI X.
    pub dpi_x: u16,
    /// DPI Y.
    pub dpi_y: u16,
    /// Capabilities.
    pub device_capabilities: DeviceCapabilities,
    /// Client version.
    pub client_version: u32,
    /// OS major version.
    pub os_major_version: u32,
    /// OS minor version.
    pub os_minor_version: u32,
    /// Display name.
    pub display_name: String,
}

impl LocalJoin {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(LocalJoin {
            device_type: ClientType::from_raw(r.u16_be("device_type")?),
            native_width: r.u16_be("native_width")?,
            native_height: r.u16_be("native_height")?,
            dpi_x: r.u16_be("dpi_x")?,
            dpi_y: r.u16_be("dpi_y")?,
            device_capabilities: DeviceCapabilities(r.u64_be("device_capabilities")?),
            client_version: r.u32_be("client_version")?,
            os_major_version: r.u32_be("os_major_version")?,
            os_minor_version: r.u32_be("os_minor_version")?,
            display_name: read_sg_string(r, "display_name")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u16_be(self.device_type.raw());
        out.put_u16_be(self.native_width);
        out.put_u16_be(self.native_height);
        out.put_u16_be(self.dpi_x);
        out.put_u16_be(self.dpi_y);
        out.put_u64_be(self.device_capabilities.raw());
        out.put_u32_be(self.client_version);
        out.put_u32_be(self.os_major_version);
        out.put_u32_be(self.os_minor_version);
        put_sg_string(out, &self.display_name, "local_join", "display_name")
    }
}

/// Channel start request (0x26): opens a service channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelStartRequest {
    /// Request id (echoed in the response).
    pub channel_request_id: u32,
    /// Title id (title channels) or 0.
    pub title_id: u32,
    /// Service channel GUID (all zero for title channels).
    #[serde(with = "uuid_text")]
    pub service: Guid,
    /// Activity id.
    pub activity_id: u32,
}

impl ChannelStartRequest {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ChannelStartRequest {
            channel_request_id: r.u32_be("channel_request_id")?,
            title_id: r.u32_be("title_id")?,
            service: read_guid(r, "service")?,
            activity_id: r.u32_be("activity_id")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.channel_request_id);
        out.put_u32_be(self.title_id);
        out.put_bytes(&self.service);
        out.put_u32_be(self.activity_id);
        Ok(())
    }
}

/// Channel start response (0x27).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelStartResponse {
    /// Request id of the request answered.
    pub channel_request_id: u32,
    /// The channel id to use.
    pub target_channel_id: u64,
    /// Result.
    pub result: SGResultCode,
}

impl ChannelStartResponse {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ChannelStartResponse {
            channel_request_id: r.u32_be("channel_request_id")?,
            target_channel_id: r.u64_be("target_channel_id")?,
            result: SGResultCode::from_raw(r.u32_be("result")?),
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.channel_request_id);
        out.put_u64_be(self.target_channel_id);
        out.put_u32_be(self.result.raw());
        Ok(())
    }
}

/// Channel stop (0x28).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelStop {
    /// Channel to stop.
    pub target_channel_id: u64,
}

impl ChannelStop {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ChannelStop {
            target_channel_id: r.u64_be("target_channel_id")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u64_be(self.target_channel_id);
        Ok(())
    }
}

/// Active title disposition (u16: top bit has-focus, low 15 bits location).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TitleDisposition {
    /// The title has focus.
    pub has_focus: bool,
    /// Where it runs (15 bits).
    pub title_location: ActiveTitleLocation,
}

/// A running title (console status). Title id is u32
/// (docs/protocol.md#overrule-active-title-layout).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveTitle {
    /// Title id.
    pub title_id: u32,
    /// Focus and location.
    pub disposition: TitleDisposition,
    /// Product id.
    #[serde(with = "uuid_text")]
    pub product_id: Guid,
    /// Sandbox id.
    #[serde(with = "uuid_text")]
    pub sandbox_id: Guid,
    /// Application user model id.
    pub aum: String,
}

impl ActiveTitle {
    /// Decodes one title.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let title_id = r.u32_be("title_id")?;
        let d = r.u16_be("disposition")?;
        Ok(ActiveTitle {
            title_id,
            disposition: TitleDisposition {
                has_focus: d & 0x8000 != 0,
                title_location: ActiveTitleLocation::from_raw(d & 0x7FFF),
            },
            product_id: read_guid(r, "product_id")?,
            sandbox_id: read_guid(r, "sandbox_id")?,
            aum: read_sg_string(r, "aum")?,
        })
    }
    /// Encodes one title; the location must fit in 15 bits.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        let loc = self.disposition.title_location.raw();
        if loc > 0x7FFF {
            return Err(WireError::invalid(
                "console_status",
                "title_location",
                "does not fit in 15 bits",
            ));
        }
        out.put_u32_be(self.title_id);
        out.put_u16_be(
            loc | if self.disposition.has_focus {
                0x8000
            } else {
                0
            },
        );
        out.put_bytes(&self.product_id);
        out.put_bytes(&self.sandbox_id);
        put_sg_string(out, &self.aum, "console_status", "aum")
    }
}

/// Console status (0x1E).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsoleStatus {
    /// Live TV provider.
    pub live_tv_provider: u32,
    /// OS major version.
    pub major_version: u32,
    /// OS minor version.
    pub minor_version: u32,
    /// OS build number.
    pub build_number: u32,
    /// Locale.
    pub locale: String,
    /// Running titles.
    pub active_titles: Vec<ActiveTitle>,
}

impl ConsoleStatus {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let live_tv_provider = r.u32_be("live_tv_provider")?;
        let major_version = r.u32_be("major_version")?;
        let minor_version = r.u32_be("minor_version")?;
        let build_number = r.u32_be("build_number")?;
        let locale = read_sg_string(r, "locale")?;
        let n = r.u16_be("active_titles")?;
        let n = r.count(n as u64, 41, "active_titles")?;
        let mut active_titles = Vec::with_capacity(n);
        for _ in 0..n {
            active_titles.push(ActiveTitle::decode(r)?);
        }
        Ok(ConsoleStatus {
            live_tv_provider,
            major_version,
            minor_version,
            build_number,
            locale,
            active_titles,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        const P: &str = "console_status";
        out.put_u32_be(self.live_tv_provider);
        out.put_u32_be(self.major_version);
        out.put_u32_be(self.minor_version);
        out.put_u32_be(self.build_number);
        put_sg_string(out, &self.locale, P, "locale")?;
        out.put_u16_be(u16_count(self.active_titles.len(), P, "active_titles")?);
        for t in &self.active_titles {
            t.encode(out)?;
        }
        Ok(())
    }
}

/// Active surface change (0x1A); the master session key is 32 bytes
/// (docs/protocol.md#overrule-active-surface-change-key-length).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveSurfaceChange {
    /// Surface type.
    pub surface_type: ActiveSurfaceType,
    /// Server TCP port.
    pub server_tcp_port: u16,
    /// Server UDP port.
    pub server_udp_port: u16,
    /// Session id.
    #[serde(with = "uuid_text")]
    pub session_id: Guid,
    /// Render width.
    pub render_width: u16,
    /// Render height.
    pub render_height: u16,
    /// Master session key.
    #[serde(with = "hexbytes")]
    pub master_session_key: [u8; 32],
}

impl ActiveSurfaceChange {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ActiveSurfaceChange {
            surface_type: ActiveSurfaceType::from_raw(r.u16_be("surface_type")?),
            server_tcp_port: r.u16_be("server_tcp_port")?,
            server_udp_port: r.u16_be("server_udp_port")?,
            session_id: read_guid(r, "session_id")?,
            render_width: r.u16_be("render_width")?,
            render_height: r.u16_be("render_height")?,
            master_session_key: r.array::<32>("master_session_key")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u16_be(self.surface_type.raw());
        out.put_u16_be(self.server_tcp_port);
        out.put_u16_be(self.server_udp_port);
        out.put_bytes(&self.session_id);
        out.put_u16_be(self.render_width);
        out.put_u16_be(self.render_height);
        out.put_bytes(&self.master_session_key);
        Ok(())
    }
}

/// JSON (0x1C): text as sent (see `sg_json` for fragmented JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Json {
    /// The JSON text.
    pub text: String,
}

impl Json {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Json {
            text: read_sg_string(r, "text")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        put_sg_string(out, &self.text, "json", "text")
    }
}

/// An auxiliary stream endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuxEndpoint {
    /// IP address (text).
    pub ip: String,
    /// Port (text).
    pub port: String,
}

/// Auxiliary stream connection info.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuxConnectionInfo {
    /// AES key.
    #[serde(with = "hexbytes")]
    pub crypto_key: Vec<u8>,
    /// Server IV.
    #[serde(with = "hexbytes")]
    pub server_iv: Vec<u8>,
    /// Client IV.
    #[serde(with = "hexbytes")]
    pub client_iv: Vec<u8>,
    /// HMAC key.
    #[serde(with = "hexbytes")]
    pub sign_hash: Vec<u8>,
    /// Endpoints.
    pub endpoints: Vec<AuxEndpoint>,
}

/// Auxiliary stream (0x19): a hello (flag 0) or connection info (flag 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuxiliaryStream {
    /// 1 when connection info follows.
    pub connection_info_flag: u8,
    /// Connection info (present exactly when the flag is 1).
    pub connection_info: Option<AuxConnectionInfo>,
}

impl AuxiliaryStream {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let connection_info_flag = r.u8("connection_info_flag")?;
        let connection_info = if connection_info_flag == 1 {
            let crypto_key = read_prefixed_bytes(r, "crypto_key")?;
            let server_iv = read_prefixed_bytes(r, "server_iv")?;
            let client_iv = read_prefixed_bytes(r, "client_iv")?;
            let sign_hash = read_prefixed_bytes(r, "sign_hash")?;
            let n = r.u16_be("endpoints")?;
            let n = r.count(n as u64, 6, "endpoints")?;
            let mut endpoints = Vec::with_capacity(n);
            for _ in 0..n {
                endpoints.push(AuxEndpoint {
                    ip: read_sg_string(r, "ip")?,
                    port: read_sg_string(r, "port")?,
                });
            }
            Some(AuxConnectionInfo {
                crypto_key,
                server_iv,
                client_iv,
                sign_hash,
                endpoints,
            })
        } else {
            None
        };
        Ok(AuxiliaryStream {
            connection_info_flag,
            connection_info,
        })
    }
    /// Encodes the payload; info must be present exactly when the flag is 1.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        const P: &str = "auxiliary_stream";
        if (self.connection_info_flag == 1) != self.connection_info.is_some() {
            return Err(WireError::invalid(
                P,
                "connection_info",
                "must be present exactly when connection_info_flag is 1",
            ));
        }
        out.put_u8(self.connection_info_flag);
        if let Some(i) = &self.connection_info {
            put_prefixed_bytes(out, &i.crypto_key, P, "crypto_key")?;
            put_prefixed_bytes(out, &i.server_iv, P, "server_iv")?;
            put_prefixed_bytes(out, &i.client_iv, P, "client_iv")?;
            put_prefixed_bytes(out, &i.sign_hash, P, "sign_hash")?;
            out.put_u16_be(u16_count(i.endpoints.len(), P, "endpoints")?);
            for e in &i.endpoints {
                put_sg_string(out, &e.ip, P, "ip")?;
                put_sg_string(out, &e.port, P, "port")?;
            }
        }
        Ok(())
    }
}

/// Disconnect (0x2A).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disconnect {
    /// Reason.
    pub reason: DisconnectReason,
    /// Error code.
    pub error_code: u32,
}

impl Disconnect {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Disconnect {
            reason: DisconnectReason::from_raw(r.u32_be("reason")?),
            error_code: r.u32_be("error_code")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.reason.raw());
        out.put_u32_be(self.error_code);
        Ok(())
    }
}

/// Power off (0x39).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerOff {
    /// The console's Live ID.
    pub liveid: String,
}

impl PowerOff {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(PowerOff {
            liveid: read_sg_string(r, "liveid")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        put_sg_string(out, &self.liveid, "power_off", "liveid")
    }
}

/// Game DVR record (0x38).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GameDvrRecord {
    /// Start, seconds relative to now (negative: in the past).
    pub start_time_delta: i32,
    /// End, seconds relative to now.
    pub end_time_delta: i32,
}

impl GameDvrRecord {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(GameDvrRecord {
            start_time_delta: r.i32_be("start_time_delta")?,
            end_time_delta: r.i32_be("end_time_delta")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.start_time_delta as u32);
        out.put_u32_be(self.end_time_delta as u32);
        Ok(())
    }
}

/// Unsnap (0x37).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unsnap {
    /// Unknown byte.
    pub unk: u8,
}

impl Unsnap {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Unsnap { unk: r.u8("unk")? })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u8(self.unk);
        Ok(())
    }
}

/// Gamepad (0xF0A); not for low-latency streaming.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gamepad {
    /// Timestamp.
    pub timestamp: u64,
    /// Buttons down.
    pub buttons: GamepadButtons,
    /// Left trigger 0..1.
    pub left_trigger: f32,
    /// Right trigger 0..1.
    pub right_trigger: f32,
    /// Left stick X -1..1.
    pub left_thumbstick_x: f32,
    /// Left stick Y -1..1.
    pub left_thumbstick_y: f32,
    /// Right stick X -1..1.
    pub right_thumbstick_x: f32,
    /// Right stick Y -1..1.
    pub right_thumbstick_y: f32,
}

impl Gamepad {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Gamepad {
            timestamp: r.u64_be("timestamp")?,
            buttons: GamepadButtons(r.u16_be("buttons")?),
            left_trigger: r.f32_be("left_trigger")?,
            right_trigger: r.f32_be("right_trigger")?,
            left_thumbstick_x: r.f32_be("left_thumbstick_x")?,
            left_thumbstick_y: r.f32_be("left_thumbstick_y")?,
            right_thumbstick_x: r.f32_be("right_thumbstick_x")?,
            right_thumbstick_y: r.f32_be("right_thumbstick_y")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u64_be(self.timestamp);
        out.put_u16_be(self.buttons.raw());
        for f in [
            self.left_trigger,
            self.right_trigger,
            self.left_thumbstick_x,
            self.left_thumbstick_y,
            self.right_thumbstick_x,
            self.right_thumbstick_y,
        ] {
            out.put_f32_be(f);
        }
        Ok(())
    }
}

/// Paired identity state changed (0x36).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedIdentityStateChanged {
    /// New state.
    pub state: PairedIdentityState,
}

impl PairedIdentityStateChanged {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(PairedIdentityStateChanged {
            state: PairedIdentityState::from_raw(r.u16_be("state")?),
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u16_be(self.state.raw());
        Ok(())
    }
}

/// A media metadata entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaMetadata {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// Media state (0xF03); playback status is u16
/// (docs/protocol.md#overrule-media-state-layout).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaState {
    /// Title id.
    pub title_id: u32,
    /// AUM id.
    pub aum_id: String,
    /// Asset id.
    pub asset_id: String,
    /// Media type.
    pub media_type: MediaType,
    /// Sound level.
    pub sound_level: SoundLevel,
    /// Commands the title accepts.
    pub enabled_commands: MediaControlCommand,
    /// Playback status.
    pub playback_status: MediaPlaybackStatus,
    /// Rate.
    pub rate: f32,
    /// Position.
    pub position: u64,
    /// Media start.
    pub media_start: u64,
    /// Media end.
    pub media_end: u64,
    /// Min seek.
    pub min_seek: u64,
    /// Max seek.
    pub max_seek: u64,
    /// Metadata.
    pub metadata: Vec<MediaMetadata>,
}

impl MediaState {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let title_id = r.u32_be("title_id")?;
        let aum_id = read_sg_string(r, "aum_id")?;
        let asset_id = read_sg_string(r, "asset_id")?;
        let media_type = MediaType::from_raw(r.u16_be("media_type")?);
        let sound_level = SoundLevel::from_raw(r.u16_be("sound_level")?);
        let enabled_commands = MediaControlCommand(r.u32_be("enabled_commands")?);
        let playback_status = MediaPlaybackStatus::from_raw(r.u16_be("playback_status")?);
        let rate = r.f32_be("rate")?;
        let position = r.u64_be("position")?;
        let media_start = r.u64_be("media_start")?;
        let media_end = r.u64_be("media_end")?;
        let min_seek = r.u64_be("min_seek")?;
        let max_seek = r.u64_be("max_seek")?;
        let n = r.u16_be("metadata")?;
        let n = r.count(n as u64, 6, "metadata")?;
        let mut metadata = Vec::with_capacity(n);
        for _ in 0..n {
            metadata.push(MediaMetadata {
                name: read_sg_string(r, "name")?,
                value: read_sg_string(r, "value")?,
            });
        }
        Ok(MediaState {
            title_id,
            aum_id,
            asset_id,
            media_type,
            sound_level,
            enabled_commands,
            playback_status,
            rate,
            position,
            media_start,
            media_end,
            min_seek,
            max_seek,
            metadata,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        const P: &str = "media_state";
        out.put_u32_be(self.title_id);
        put_sg_string(out, &self.aum_id, P, "aum_id")?;
        put_sg_string(out, &self.asset_id, P, "asset_id")?;
        out.put_u16_be(self.media_type.raw());
        out.put_u16_be(self.sound_level.raw());
        out.put_u32_be(self.enabled_commands.raw());
        out.put_u16_be(self.playback_status.raw());
        out.put_f32_be(self.rate);
        out.put_u64_be(self.position);
        out.put_u64_be(self.media_start);
        out.put_u64_be(self.media_end);
        out.put_u64_be(self.min_seek);
        out.put_u64_be(self.max_seek);
        out.put_u16_be(u16_count(self.metadata.len(), P, "metadata")?);
        for m in &self.metadata {
            put_sg_string(out, &m.name, P, "name")?;
            put_sg_string(out, &m.value, P, "value")?;
        }
        Ok(())
    }
}

/// Media controller removed (0xF00).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaControllerRemoved {
    /// Title id.
    pub title_id: u32,
}

impl MediaControllerRemoved {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(MediaControllerRemoved {
            title_id: r.u32_be("title_id")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.title_id);
        Ok(())
    }
}

/// Media command result (0xF02).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaCommandResult {
    /// Request id.
    pub request_id: u64,
    /// Result.
    pub result: u32,
}

impl MediaCommandResult {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(MediaCommandResult {
            request_id: r.u64_be("request_id")?,
            result: r.u32_be("result")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u64_be(self.request_id);
        out.put_u32_be(self.result);
        Ok(())
    }
}

/// Media command (0xF01). The seek position (u64, as the reference; the
/// published notes say u32 and no capture settles it, see
/// docs/protocol.md#layouts-no-capture-settles) is present exactly when the
/// command is `Seek`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaCommand {
    /// Request id.
    pub request_id: u64,
    /// Title id.
    pub title_id: u32,
    /// Command.
    pub command: MediaControlCommand,
    /// Seek position.
    pub seek_position: Option<u64>,
}

impl MediaCommand {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let request_id = r.u64_be("request_id")?;
        let title_id = r.u32_be("title_id")?;
        let command = MediaControlCommand(r.u32_be("command")?);
        let seek_position = if command == MediaControlCommand::Seek {
            Some(r.u64_be("seek_position")?)
        } else {
            None
        };
        Ok(MediaCommand {
            request_id,
            title_id,
            command,
            seek_position,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        if (self.command == MediaControlCommand::Seek) != self.seek_position.is_some() {
            return Err(WireError::invalid(
                "media_command",
                "seek_position",
                "must be present exactly when the command is Seek",
            ));
        }
        out.put_u64_be(self.request_id);
        out.put_u32_be(self.title_id);
        out.put_u32_be(self.command.raw());
        if let Some(p) = self.seek_position {
            out.put_u64_be(p);
        }
        Ok(())
    }
}

macro_rules! sensor {
    ($(#[$m:meta])* $name:ident { $( $(#[$fm:meta])* $f:ident ),* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct $name {
            /// Timestamp.
            pub timestamp: u64,
            $( $(#[$fm])* pub $f: f32, )*
        }

        impl $name {
            /// Decodes the payload.
            pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
                Ok($name {
                    timestamp: r.u64_be("timestamp")?,
                    $( $f: r.f32_be(stringify!($f))?, )*
                })
            }
            /// Encodes the payload.
            pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
                out.put_u64_be(self.timestamp);
                $( out.put_f32_be(self.$f); )*
                Ok(())
            }
        }
    };
}

sensor!(
    /// Orientation (0x33).
    Orientation {
        /// Rotation matrix value.
        rotation_matrix_value,
        /// Quaternion W.
        w,
        /// Quaternion X.
        x,
        /// Quaternion Y.
        y,
        /// Quaternion Z.
        z
    }
);
sensor!(
    /// Compass (0x32).
    Compass {
        /// Magnetic north.
        magnetic_north,
        /// True north.
        true_north
    }
);
sensor!(
    /// Inclinometer (0x31).
    Inclinometer {
        /// Pitch.
        pitch,
        /// Roll.
        roll,
        /// Yaw.
        yaw
    }
);
sensor!(
    /// Gyrometer (0x30).
    Gyrometer {
        /// Angular velocity X.
        angular_velocity_x,
        /// Angular velocity Y.
        angular_velocity_y,
        /// Angular velocity Z.
        angular_velocity_z
    }
);
sensor!(
    /// Accelerometer (0x2F).
    Accelerometer {
        /// Acceleration X.
        acceleration_x,
        /// Acceleration Y.
        acceleration_y,
        /// Acceleration Z.
        acceleration_z
    }
);

/// A touch point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Touchpoint {
    /// Id.
    pub touchpoint_id: u32,
    /// Action.
    pub touchpoint_action: TouchAction,
    /// X.
    pub touchpoint_x: u32,
    /// Y.
    pub touchpoint_y: u32,
}

/// Touch (title 0x2E, system 0xF2E).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Touch {
    /// Timestamp.
    pub touch_msg_timestamp: u32,
    /// Touch points.
    pub touchpoints: Vec<Touchpoint>,
}

impl Touch {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let touch_msg_timestamp = r.u32_be("touch_msg_timestamp")?;
        let n = r.u16_be("touchpoints")?;
        let n = r.count(n as u64, 14, "touchpoints")?;
        let mut touchpoints = Vec::with_capacity(n);
        for _ in 0..n {
            touchpoints.push(Touchpoint {
                touchpoint_id: r.u32_be("touchpoint_id")?,
                touchpoint_action: TouchAction::from_raw(r.u16_be("touchpoint_action")?),
                touchpoint_x: r.u32_be("touchpoint_x")?,
                touchpoint_y: r.u32_be("touchpoint_y")?,
            });
        }
        Ok(Touch {
            touch_msg_timestamp,
            touchpoints,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.touch_msg_timestamp);
        out.put_u16_be(u16_count(self.touchpoints.len(), "touch", "touchpoints")?);
        for t in &self.touchpoints {
            out.put_u32_be(t.touchpoint_id);
            out.put_u16_be(t.touchpoint_action.raw());
            out.put_u32_be(t.touchpoint_x);
            out.put_u32_be(t.touchpoint_y);
        }
        Ok(())
    }
}

/// Title launch (0x23).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TitleLaunch {
    /// Where to launch.
    pub location: ActiveTitleLocation,
    /// URI.
    pub uri: String,
}

impl TitleLaunch {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(TitleLaunch {
            location: ActiveTitleLocation::from_raw(r.u16_be("location")?),
            uri: read_sg_string(r, "uri")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u16_be(self.location.raw());
        put_sg_string(out, &self.uri, "title_launch", "uri")
    }
}

/// System text done (0xF35).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemTextDone {
    /// Text session id.
    pub text_session_id: u32,
    /// Text version.
    pub text_version: u32,
    /// Flags.
    pub flags: u32,
    /// Result.
    pub result: TextResult,
}

impl SystemTextDone {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(SystemTextDone {
            text_session_id: r.u32_be("text_session_id")?,
            text_version: r.u32_be("text_version")?,
            flags: r.u32_be("flags")?,
            result: TextResult::from_raw(r.u32_be("result")?),
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.text_session_id);
        out.put_u32_be(self.text_version);
        out.put_u32_be(self.flags);
        out.put_u32_be(self.result.raw());
        Ok(())
    }
}

/// System text acknowledge (0xF34).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemTextAcknowledge {
    /// Text session id.
    pub text_session_id: u32,
    /// Acknowledged version.
    pub text_version_ack: u32,
}

impl SystemTextAcknowledge {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(SystemTextAcknowledge {
            text_session_id: r.u32_be("text_session_id")?,
            text_version_ack: r.u32_be("text_version_ack")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u32_be(self.text_session_id);
        out.put_u32_be(self.text_version_ack);
        Ok(())
    }
}

/// A text delta of system text input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextDelta {
    /// Offset.
    pub offset: u32,
    /// Characters deleted.
    pub delete_count: u32,
    /// Inserted text.
    pub insert_content: String,
}

/// System text input (0xF2C). The delta list is optional: a captured packet
/// ends right after the text chunk
/// (docs/protocol.md#overrule-system-text-input-ends-early).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemTextInput {
    /// Text session id.
    pub text_session_id: u32,
    /// Base version.
    pub base_version: u32,
    /// Submitted version.
    pub submitted_version: u32,
    /// Total text length in bytes.
    pub total_text_byte_len: u32,
    /// Selection start (-1: none).
    pub selection_start: i32,
    /// Selection length (-1: none).
    pub selection_length: i32,
    /// Flags.
    pub flags: u16,
    /// Byte offset of the chunk.
    pub text_chunk_byte_start: u32,
    /// Text chunk.
    pub text_chunk: String,
    /// Deltas, when present.
    pub delta: Option<Vec<TextDelta>>,
}

impl SystemTextInput {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let text_session_id = r.u32_be("text_session_id")?;
        let base_version = r.u32_be("base_version")?;
        let submitted_version = r.u32_be("submitted_version")?;
        let total_text_byte_len = r.u32_be("total_text_byte_len")?;
        let selection_start = r.i32_be("selection_start")?;
        let selection_length = r.i32_be("selection_length")?;
        let flags = r.u16_be("flags")?;
        let text_chunk_byte_start = r.u32_be("text_chunk_byte_start")?;
        let text_chunk = read_sg_string(r, "text_chunk")?;
        let delta = if r.is_empty() {
            None
        } else {
            let n = r.u16_be("delta")?;
            let n = r.count(n as u64, 11, "delta")?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(TextDelta {
                    offset: r.u32_be("offset")?,
                    delete_count: r.u32_be("delete_count")?,
                    insert_content: read_sg_string(r, "insert_content")?,
                });
            }
            Some(v)
        };
        Ok(SystemTextInput {
            text_session_id,
            base_version,
            submitted_version,
            total_text_byte_len,
            selection_start,
            selection_length,
            flags,
            text_chunk_byte_start,
            text_chunk,
            delta,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        const P: &str = "system_text_input";
        out.put_u32_be(self.text_session_id);
        out.put_u32_be(self.base_version);
        out.put_u32_be(self.submitted_version);
        out.put_u32_be(self.total_text_byte_len);
        out.put_u32_be(self.selection_start as u32);
        out.put_u32_be(self.selection_length as u32);
        out.put_u16_be(self.flags);
        out.put_u32_be(self.text_chunk_byte_start);
        put_sg_string(out, &self.text_chunk, P, "text_chunk")?;
        if let Some(d) = &self.delta {
            out.put_u16_be(u16_count(d.len(), P, "delta")?);
            for t in d {
                out.put_u32_be(t.offset);
                out.put_u32_be(t.delete_count);
                put_sg_string(out, &t.insert_content, P, "insert_content")?;
            }
        }
        Ok(())
    }
}

/// Title text selection (0x21).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TitleTextSelection {
    /// Text session id.
    pub text_session_id: u64,
    /// Buffer version.
    pub text_buffer_version: u32,
    /// Selection start.
    pub start: u32,
    /// Selection length.
    pub length: u32,
}

impl TitleTextSelection {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(TitleTextSelection {
            text_session_id: r.u64_be("text_session_id")?,
            text_buffer_version: r.u32_be("text_buffer_version")?,
            start: r.u32_be("start")?,
            length: r.u32_be("length")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        out.put_u64_be(self.text_session_id);
        out.put_u32_be(self.text_buffer_version);
        out.put_u32_be(self.start);
        out.put_u32_be(self.length);
        Ok(())
    }
}

/// Title text input (0x20).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TitleTextInput {
    /// Text session id.
    pub text_session_id: u64,
    /// Buffer version.
    pub text_buffer_version: u32,
    /// Result (u16 on the wire).
    pub result: TextResult,
    /// Text.
    pub text: String,
}

impl TitleTextInput {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(TitleTextInput {
            text_session_id: r.u64_be("text_session_id")?,
            text_buffer_version: r.u32_be("text_buffer_version")?,
            result: TextResult::from_raw(r.u16_be("result")? as u32),
            text: read_sg_string(r, "text")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        const P: &str = "title_text_input";
        let res = u16::try_from(self.result.raw())
            .map_err(|_| WireError::invalid(P, "result", "does not fit in u16"))?;
        out.put_u64_be(self.text_session_id);
        out.put_u32_be(self.text_buffer_version);
        out.put_u16_be(res);
        put_sg_string(out, &self.text, P, "text")
    }
}

/// Text configuration (title 0x1F, system 0xF2B).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextConfiguration {
    /// Text session id.
    pub text_session_id: u64,
    /// Buffer version.
    pub text_buffer_version: u32,
    /// Options.
    pub text_options: TextOptions,
    /// Input scope.
    pub input_scope: TextInputScope,
    /// Maximum length.
    pub max_text_length: u32,
    /// Locale.
    pub locale: String,
    /// Prompt.
    pub prompt: String,
}

impl TextConfiguration {
    /// Decodes the payload.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(TextConfiguration {
            text_session_id: r.u64_be("text_session_id")?,
            text_buffer_version: r.u32_be("text_buffer_version")?,
            text_options: TextOptions(r.u32_be("text_options")?),
            input_scope: TextInputScope::from_raw(r.u32_be("input_scope")?),
            max_text_length: r.u32_be("max_text_length")?,
            locale: read_sg_string(r, "locale")?,
            prompt: read_sg_string(r, "prompt")?,
        })
    }
    /// Encodes the payload.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
        const P: &str = "text_configuration";
        out.put_u64_be(self.text_session_id);
        out.put_u32_be(self.text_buffer_version);
        out.put_u32_be(self.text_options.raw());
        out.put_u32_be(self.input_scope.raw());
        out.put_u32_be(self.max_text_length);
        put_sg_string(out, &self.locale, P, "locale")?;
        put_sg_string(out, &self.prompt, P, "prompt")
    }
}

/// Raw payload bytes of a type without a known layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct RawPayload(#[serde(with = "hexbytes")] pub Vec<u8>);

macro_rules! payloads {
    ($( $(#[$m:meta])* $variant:ident($ty:ty) = $mt:ident, $pname:literal; )*) => {
        /// A message payload, by message type. Serializes as the bare payload
        /// (the reference's `protected_payload`).
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(untagged)]
        pub enum MessagePayload {
            $( $(#[$m])* $variant($ty), )*
            /// A fragment of a larger message (header flag is-fragment).
            Fragment(Fragment),
            /// A type without a known layout (Group, Navigate, Tunnel, ...
            /// or unknown), kept as raw bytes.
            Unknown(RawPayload),
        }

        impl MessagePayload {
            /// The message type this payload is sent as (`None` for
            /// fragments and raw payloads).
            pub fn msg_type(&self) -> Option<MessageType> {
                match self {
                    $( MessagePayload::$variant(_) => Some(MessageType::$mt), )*
                    MessagePayload::Fragment(_) | MessagePayload::Unknown(_) => None,
                }
            }

            /// Decodes a whole (non-fragment) plaintext payload of type `t`.
            /// Trailing bytes are an error.
            pub fn decode(t: MessageType, buf: &[u8]) -> Result<MessagePayload, WireError> {
                let p = match t {
                    $( MessageType::$mt => {
                        let mut r = Reader::new(buf, $pname);
                        let v = <$ty>::decode(&mut r)?;
                        r.finish()?;
                        MessagePayload::$variant(v)
                    } )*
                    _ => MessagePayload::Unknown(RawPayload(buf.to_vec())),
                };
                Ok(p)
            }

            /// Encodes the plaintext payload.
            pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WireError> {
                match self {
                    $( MessagePayload::$variant(v) => v.encode(out), )*
                    MessagePayload::Fragment(f) => f.encode(out),
                    MessagePayload::Unknown(RawPayload(b)) => {
                        out.put_bytes(b);
                        Ok(())
                    }
                }
            }
        }
    };
}

payloads! {
    /// 0x01.
    Ack(Acknowledge) = Ack, "acknowledge";
    /// 0x03.
    LocalJoin(LocalJoin) = LocalJoin, "local_join";
    /// 0x19.
    AuxiliaryStream(AuxiliaryStream) = AuxilaryStream, "auxiliary_stream";
    /// 0x1A.
    ActiveSurfaceChange(ActiveSurfaceChange) = ActiveSurfaceChange, "active_surface_change";
    /// 0x1C.
    Json(Json) = Json, "json";
    /// 0x1E.
    ConsoleStatus(ConsoleStatus) = ConsoleStatus, "console_status";
    /// 0x1F.
    TitleTextConfiguration(TextConfiguration) = TitleTextConfiguration, "title_text_configuration";
    /// 0x20.
    TitleTextInput(TitleTextInput) = TitleTextInput, "title_text_input";
    /// 0x21.
    TitleTextSelection(TitleTextSelection) = TitleTextSelection, "title_text_selection";
    /// 0x23.
    TitleLaunch(TitleLaunch) = TitleLaunch, "title_launch";
    /// 0x26.
    ChannelStartRequest(ChannelStartRequest) = StartChannelRequest, "start_channel_request";
    /// 0x27.
    ChannelStartResponse(ChannelStartResponse) = StartChannelResponse, "start_channel_response";
    /// 0x28.
    ChannelStop(ChannelStop) = StopChannel, "stop_channel";
    /// 0x2A.
    Disconnect(Disconnect) = Disconnect, "disconnect";
    /// 0x2E.
    TitleTouch(Touch) = TitleTouch, "title_touch";
    /// 0x2F.
    Accelerometer(Accelerometer) = Accelerometer, "accelerometer";
    /// 0x30.
    Gyrometer(Gyrometer) = Gyrometer, "gyrometer";
    /// 0x31.
    Inclinometer(Inclinometer) = Inclinometer, "inclinometer";
    /// 0x32.
    Compass(Compass) = Compass, "compass";
    /// 0x33.
    Orientation(Orientation) = Orientation, "orientation";
    /// 0x36.
    PairedIdentityStateChanged(PairedIdentityStateChanged) = PairedIdentityStateChanged, "paired_identity_state_changed";
    /// 0x37.
    Unsnap(Unsnap) = Unsnap, "unsnap";
    /// 0x38.
    GameDvrRecord(GameDvrRecord) = GameDvrRecord, "game_dvr_record";
    /// 0x39.
    PowerOff(PowerOff) = PowerOff, "power_off";
    /// 0xF00.
    MediaControllerRemoved(MediaControllerRemoved) = MediaControllerRemoved, "media_controller_removed";
    /// 0xF01.
    MediaCommand(MediaCommand) = MediaCommand, "media_command";
    /// 0xF02.
    MediaCommandResult(MediaCommandResult) = MediaCommandResult, "media_command_result";
    /// 0xF03.
    MediaState(MediaState) = MediaState, "media_state";
    /// 0xF0A.
    Gamepad(Gamepad) = Gamepad, "gamepad";
    /// 0xF2B.
    SystemTextConfiguration(TextConfiguration) = SystemTextConfiguration, "system_text_configuration";
    /// 0xF2C.
    SystemTextInput(SystemTextInput) = SystemTextInput, "system_text_input";
    /// 0xF2E.
    SystemTouch(Touch) = SystemTouch, "system_touch";
    /// 0xF34.
    SystemTextAcknowledge(SystemTextAcknowledge) = SystemTextAck, "system_text_acknowledge";
    /// 0xF35.
    SystemTextDone(SystemTextDone) = SystemTextDone, "system_text_done";
}
