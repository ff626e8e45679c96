//! The channel classes of Nano (docs/protocol.md#channel-control), by which
//! a channel's payloads are decoded.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// The class of a channel, announced by name in Channel Create.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChannelClass {
    /// Video.
    Video,
    /// Audio.
    Audio,
    /// Chat audio.
    ChatAudio,
    /// Control Protocol.
    Control,
    /// Controller input (client -> console).
    Input,
    /// Input feedback (rumble, console -> client).
    InputFeedback,
    /// TCP base (never seen in the wild).
    TcpBase,
    /// A name this version does not know, kept.
    Unknown(String),
}

impl ChannelClass {
    /// Every known class.
    pub const ALL: [ChannelClass; 7] = [
        ChannelClass::Video,
        ChannelClass::Audio,
        ChannelClass::ChatAudio,
        ChannelClass::Control,
        ChannelClass::Input,
        ChannelClass::InputFeedback,
        ChannelClass::TcpBase,
    ];

    /// The wire name, e.g. `Microsoft::Rdp::Dct::Channel::Class::Video`.
    /// Note the space in `...::Input Feedback`.
    pub fn wire_name(&self) -> &str {
        match self {
            ChannelClass::Video => "Microsoft::Rdp::Dct::Channel::Class::Video",
            ChannelClass::Audio => "Microsoft::Rdp::Dct::Channel::Class::Audio",
            ChannelClass::ChatAudio => "Microsoft::Rdp::Dct::Channel::Class::ChatAudio",
            ChannelClass::Control => "Microsoft::Rdp::Dct::Channel::Class::Control",
            ChannelClass::Input => "Microsoft::Rdp::Dct::Channel::Class::Input",
            ChannelClass::InputFeedback => "Microsoft::Rdp::Dct::Channel::Class::Input Feedback",
            ChannelClass::TcpBase => "Microsoft::Rdp::Dct::Channel::Class::TcpBase",
            ChannelClass::Unknown(s) => s,
        }
    }

    /// Maps a wire name, keeping unknown names.
    pub fn from_wire_name(name: &str) -> Self {
        ChannelClass::ALL
            .iter()
            .find(|c| c.wire_name() == name)
            .cloned()
            .unwrap_or_else(|| ChannelClass::Unknown(name.to_owned()))
    }

    /// The short name (`"Video"`, ..., `"Unknown"`).
    pub fn name(&self) -> &'static str {
        match self {
            ChannelClass::Video => "Video",
            ChannelClass::Audio => "Audio",
            ChannelClass::ChatAudio => "ChatAudio",
            ChannelClass::Control => "Control",
            ChannelClass::Input => "Input",
            ChannelClass::InputFeedback => "InputFeedback",
            ChannelClass::TcpBase => "TcpBase",
            ChannelClass::Unknown(_) => "Unknown",
        }
    }
}

impl Serialize for ChannelClass {
    /// As `{"name": "Video", "value": "Microsoft::...::Video"}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ChannelClass", 2)?;
        st.serialize_field("name", self.name())?;
        st.serialize_field("value", self.wire_name())?;
        st.end()
    }
}
