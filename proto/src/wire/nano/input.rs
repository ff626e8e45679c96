//! Input and InputFeedback channel streamer payloads
//! (docs/protocol.md#input-and-inputfeedback-payloads), little-endian. Field
//! names follow the reference implementation.

use serde::Serialize;

use crate::wire::{Put, Reader, WireError};

/// Streamer payload type: input server handshake.
pub const INPUT_SERVER_HANDSHAKE: u32 = 1;
/// Streamer payload type: input client handshake.
pub const INPUT_CLIENT_HANDSHAKE: u32 = 2;
/// Streamer payload type: frame ack.
pub const INPUT_FRAME_ACK: u32 = 3;
/// Streamer payload type: input frame.
pub const INPUT_FRAME: u32 = 4;

/// Announces the desktop and the initial frame id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputServerHandshake {
    /// Streamer protocol version (3 for input).
    pub protocol_version: u32,
    /// Host display width.
    pub desktop_width: u32,
    /// Host display height.
    pub desktop_height: u32,
    /// Maximum touches (0).
    pub max_touches: u32,
    /// Initial frame id.
    pub initial_frame_id: u32,
}

impl InputServerHandshake {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "InputServerHandshake");
        let v = InputServerHandshake {
            protocol_version: r.u32_le("protocol_version")?,
            desktop_width: r.u32_le("desktop_width")?,
            desktop_height: r.u32_le("desktop_height")?,
            max_touches: r.u32_le("max_touches")?,
            initial_frame_id: r.u32_le("initial_frame_id")?,
        };
        r.finish()?;
        Ok(v)
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.protocol_version);
        out.put_u32_le(self.desktop_width);
        out.put_u32_le(self.desktop_height);
        out.put_u32_le(self.max_touches);
        out.put_u32_le(self.initial_frame_id);
    }
}

/// Answer to an [`InputServerHandshake`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputClientHandshake {
    /// Maximum touches.
    pub max_touches: u32,
    /// Reference timestamp, milliseconds since the Unix epoch.
    pub reference_timestamp: u64,
}

impl InputClientHandshake {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "InputClientHandshake");
        let v = InputClientHandshake {
            max_touches: r.u32_le("max_touches")?,
            reference_timestamp: r.u64_le("reference_timestamp")?,
        };
        r.finish()?;
        Ok(v)
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.max_touches);
        out.put_u64_le(self.reference_timestamp);
    }
}

/// Acknowledges an input frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameAck {
    /// The acknowledged frame id.
    pub acked_frame: u32,
}

impl FrameAck {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "FrameAck");
        let acked_frame = r.u32_le("acked_frame")?;
        r.finish()?;
        Ok(FrameAck { acked_frame })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.acked_frame);
    }
}

/// Button model: one counter per button, incremented on every state change
/// (odd = pressed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct InputButtons {
    pub dpad_up: u8,
    pub dpad_down: u8,
    pub dpad_left: u8,
    pub dpad_right: u8,
    pub start: u8,
    pub back: u8,
    pub left_thumbstick: u8,
    pub right_thumbstick: u8,
    pub left_shoulder: u8,
    pub right_shoulder: u8,
    pub guide: u8,
    pub unknown: u8,
    pub a: u8,
    pub b: u8,
    pub x: u8,
    pub y: u8,
}

impl InputButtons {
    /// Encoded size.
    pub const SIZE: usize = 16;

    /// Builds from the 16 wire bytes.
    pub fn from_bytes(b: [u8; 16]) -> Self {
        InputButtons {
            dpad_up: b[0],
            dpad_down: b[1],
            dpad_left: b[2],
            dpad_right: b[3],
            start: b[4],
            back: b[5],
            left_thumbstick: b[6],
            right_thumbstick: b[7],
            left_shoulder: b[8],
            right_shoulder: b[9],
            guide: b[10],
            unknown: b[11],
            a: b[12],
            b: b[13],
            x: b[14],
            y: b[15],
        }
    }

    /// The 16 wire bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        [
            self.dpad_up,
            self.dpad_down,
            self.dpad_left,
            self.dpad_right,
            self.start,
            self.back,
            self.left_thumbstick,
            self.right_thumbstick,
            self.left_shoulder,
            self.right_shoulder,
            self.guide,
            self.unknown,
            self.a,
            self.b,
            self.x,
            self.y,
        ]
    }
}

/// Analog model: triggers, thumbsticks and rumble. Thumbsticks are signed
/// 16-bit as in the reference (the published notes say uint16; no capture
/// settles it: docs/protocol.md#layouts-no-capture-settles).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct InputAnalog {
    pub left_trigger: u8,
    pub right_trigger: u8,
    pub left_thumb_x: i16,
    pub left_thumb_y: i16,
    pub right_thumb_x: i16,
    pub right_thumb_y: i16,
    pub rumble_trigger_l: u8,
    pub rumble_trigger_r: u8,
    pub rumble_handle_l: u8,
    pub rumble_handle_r: u8,
}

impl InputAnalog {
    /// Encoded size.
    pub const SIZE: usize = 14;

    /// Decodes the 14 bytes.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(InputAnalog {
            left_trigger: r.u8("left_trigger")?,
            right_trigger: r.u8("right_trigger")?,
            left_thumb_x: r.i16_le("left_thumb_x")?,
            left_thumb_y: r.i16_le("left_thumb_y")?,
            right_thumb_x: r.i16_le("right_thumb_x")?,
            right_thumb_y: r.i16_le("right_thumb_y")?,
            rumble_trigger_l: r.u8("rumble_trigger_l")?,
            rumble_trigger_r: r.u8("rumble_trigger_r")?,
            rumble_handle_l: r.u8("rumble_handle_l")?,
            rumble_handle_r: r.u8("rumble_handle_r")?,
        })
    }

    /// Appends the 14 bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(self.left_trigger);
        out.put_u8(self.right_trigger);
        out.put_u16_le(self.left_thumb_x as u16);
        out.put_u16_le(self.left_thumb_y as u16);
        out.put_u16_le(self.right_thumb_x as u16);
        out.put_u16_le(self.right_thumb_y as u16);
        out.put_u8(self.rumble_trigger_l);
        out.put_u8(self.rumble_trigger_r);
        out.put_u8(self.rumble_handle_l);
        out.put_u8(self.rumble_handle_r);
    }
}

/// Extension model (9 bytes, optional). `byte_6` is 1 for a gamepad.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct InputExtension {
    pub byte_6: u8,
    pub byte_7: u8,
    pub rumble_trigger_l2: u8,
    pub rumble_trigger_r2: u8,
    pub rumble_handle_l2: u8,
    pub rumble_handle_r2: u8,
    pub byte_12: u8,
    pub byte_13: u8,
    pub byte_14: u8,
}

impl InputExtension {
    /// Encoded size.
    pub const SIZE: usize = 9;

    /// Builds from the 9 wire bytes.
    pub fn from_bytes(b: [u8; 9]) -> Self {
        InputExtension {
            byte_6: b[0],
            byte_7: b[1],
            rumble_trigger_l2: b[2],
            rumble_trigger_r2: b[3],
            rumble_handle_l2: b[4],
            rumble_handle_r2: b[5],
            byte_12: b[6],
            byte_13: b[7],
            byte_14: b[8],
        }
    }

    /// The 9 wire bytes.
    pub fn to_bytes(&self) -> [u8; 9] {
        [
            self.byte_6,
            self.byte_7,
            self.rumble_trigger_l2,
            self.rumble_trigger_r2,
            self.rumble_handle_l2,
            self.rumble_handle_r2,
            self.byte_12,
            self.byte_13,
            self.byte_14,
        ]
    }
}

/// One input frame (50 bytes, or 59 with the extension).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFrame {
    /// Frame id.
    pub frame_id: u32,
    /// Timestamp.
    pub timestamp: u64,
    /// Creation timestamp.
    pub created_ts: u64,
    /// Button model.
    pub buttons: InputButtons,
    /// Analog model.
    pub analog: InputAnalog,
    /// Extension model (optional: a 50-byte frame is valid).
    pub extension: Option<InputExtension>,
}

impl InputFrame {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "InputFrame");
        let frame_id = r.u32_le("frame_id")?;
        let timestamp = r.u64_le("timestamp")?;
        let created_ts = r.u64_le("created_ts")?;
        let buttons = InputButtons::from_bytes(r.array("buttons")?);
        let analog = InputAnalog::decode(&mut r)?;
        let extension = if r.is_empty() {
            None
        } else {
            Some(InputExtension::from_bytes(r.array("extension")?))
        };
        r.finish()?;
        Ok(InputFrame {
            frame_id,
            timestamp,
            created_ts,
            buttons,
            analog,
            extension,
        })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.frame_id);
        out.put_u64_le(self.timestamp);
        out.put_u64_le(self.created_ts);
        out.put_bytes(&self.buttons.to_bytes());
        self.analog.encode(out);
        if let Some(e) = &self.extension {
            out.put_bytes(&e.to_bytes());
        }
    }
}

/// An Input / InputFeedback channel streamer payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum InputPayload {
    /// Type 1.
    ServerHandshake(InputServerHandshake),
    /// Type 2.
    ClientHandshake(InputClientHandshake),
    /// Type 3.
    FrameAck(FrameAck),
    /// Type 4.
    Frame(InputFrame),
}

impl InputPayload {
    /// Decodes a payload of streamer type `ty`; `Ok(None)` for unknown types.
    pub fn decode(ty: u32, buf: &[u8]) -> Result<Option<Self>, WireError> {
        Ok(Some(match ty {
            INPUT_SERVER_HANDSHAKE => {
                InputPayload::ServerHandshake(InputServerHandshake::decode(buf)?)
            }
            INPUT_CLIENT_HANDSHAKE => {
                InputPayload::ClientHandshake(InputClientHandshake::decode(buf)?)
            }
            INPUT_FRAME_ACK => InputPayload::FrameAck(FrameAck::decode(buf)?),
            INPUT_FRAME => InputPayload::Frame(InputFrame::decode(buf)?),
            _ => return Ok(None),
        }))
    }

    /// The streamer payload type.
    pub fn payload_type(&self) -> u32 {
        match self {
            InputPayload::ServerHandshake(_) => INPUT_SERVER_HANDSHAKE,
            InputPayload::ClientHandshake(_) => INPUT_CLIENT_HANDSHAKE,
            InputPayload::FrameAck(_) => INPUT_FRAME_ACK,
            InputPayload::Frame(_) => INPUT_FRAME,
        }
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            InputPayload::ServerHandshake(p) => p.encode(out),
            InputPayload::ClientHandshake(p) => p.encode(out),
            InputPayload::FrameAck(p) => p.encode(out),
            InputPayload::Frame(p) => p.encode(out),
        }
    }
}
