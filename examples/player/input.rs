//! Keyboard and SDL game controller to [`ControllerState`].
//!
//! The mappings are plain functions of "is this key/button down" and "where is this axis", so
//! they are tested without a window.

use sdl2::controller::{Axis, Button};
use sdl2::keyboard::Scancode;
use xnano::nano::{buttons, ControllerState};

/// Full stick deflection.
const STICK: i16 = i16::MAX;

/// Keyboard key to controller button, in the order the README lists them.
pub const KEY_BUTTONS: &[(Scancode, u16, &str)] = &[
    (Scancode::Up, buttons::DPAD_UP, "D-pad up"),
    (Scancode::Down, buttons::DPAD_DOWN, "D-pad down"),
    (Scancode::Left, buttons::DPAD_LEFT, "D-pad left"),
    (Scancode::Right, buttons::DPAD_RIGHT, "D-pad right"),
    (Scancode::Z, buttons::A, "A"),
    (Scancode::X, buttons::B, "B"),
    (Scancode::C, buttons::X, "X"),
    (Scancode::V, buttons::Y, "Y"),
    (Scancode::Num1, buttons::LEFT_SHOULDER, "left bumper (LB)"),
    (Scancode::Num3, buttons::RIGHT_SHOULDER, "right bumper (RB)"),
    (Scancode::F, buttons::LEFT_THUMB, "left stick click"),
    (Scancode::H, buttons::RIGHT_THUMB, "right stick click"),
    (Scancode::Return, buttons::START, "Menu"),
    (Scancode::Backspace, buttons::BACK, "View"),
    (Scancode::Home, buttons::GUIDE, "Xbox (guide)"),
];

/// SDL game controller button to controller button.
const PAD_BUTTONS: &[(Button, u16)] = &[
    (Button::DPadUp, buttons::DPAD_UP),
    (Button::DPadDown, buttons::DPAD_DOWN),
    (Button::DPadLeft, buttons::DPAD_LEFT),
    (Button::DPadRight, buttons::DPAD_RIGHT),
    (Button::A, buttons::A),
    (Button::B, buttons::B),
    (Button::X, buttons::X),
    (Button::Y, buttons::Y),
    (Button::LeftShoulder, buttons::LEFT_SHOULDER),
    (Button::RightShoulder, buttons::RIGHT_SHOULDER),
    (Button::LeftStick, buttons::LEFT_THUMB),
    (Button::RightStick, buttons::RIGHT_THUMB),
    (Button::Start, buttons::START),
    (Button::Back, buttons::BACK),
    (Button::Guide, buttons::GUIDE),
];

/// -1, 0 or +1 stick deflection from a pair of opposite keys.
fn axis_of(neg: bool, pos: bool) -> i16 {
    match (neg, pos) {
        (true, false) => -STICK,
        (false, true) => STICK,
        _ => 0,
    }
}

/// The controller state the keyboard describes. `down(key)` tells whether a key is held.
///
/// Sticks use the Xbox convention: +Y is up.
pub fn from_keyboard(down: impl Fn(Scancode) -> bool) -> ControllerState {
    let mut st = ControllerState::default();
    for &(key, bit, _) in KEY_BUTTONS {
        if down(key) {
            st.buttons |= bit;
        }
    }
    st.left_thumb_x = axis_of(down(Scancode::A), down(Scancode::D));
    st.left_thumb_y = axis_of(down(Scancode::S), down(Scancode::W));
    st.right_thumb_x = axis_of(down(Scancode::J), down(Scancode::L));
    st.right_thumb_y = axis_of(down(Scancode::K), down(Scancode::I));
    if down(Scancode::Q) {
        st.left_trigger = u8::MAX;
    }
    if down(Scancode::E) {
        st.right_trigger = u8::MAX;
    }
    st
}

/// SDL trigger axis (0..=32767) to 0..=255.
fn trigger(v: i16) -> u8 {
    let v = u32::from(v.max(0).unsigned_abs());
    u8::try_from(v * 255 / 32767).unwrap_or(u8::MAX)
}

/// SDL stick Y (+down) to Xbox stick Y (+up), keeping the range symmetric.
fn flip(v: i16) -> i16 {
    v.saturating_neg().max(-STICK)
}

/// The controller state an SDL game controller describes.
pub fn from_pad(button: impl Fn(Button) -> bool, axis: impl Fn(Axis) -> i16) -> ControllerState {
    let mut st = ControllerState::default();
    for &(b, bit) in PAD_BUTTONS {
        if button(b) {
            st.buttons |= bit;
        }
    }
    st.left_thumb_x = axis(Axis::LeftX).max(-STICK);
    st.left_thumb_y = flip(axis(Axis::LeftY));
    st.right_thumb_x = axis(Axis::RightX).max(-STICK);
    st.right_thumb_y = flip(axis(Axis::RightY));
    st.left_trigger = trigger(axis(Axis::TriggerLeft));
    st.right_trigger = trigger(axis(Axis::TriggerRight));
    st
}

/// Two sources driving one controller (keyboard and pad): buttons held on either, the larger
/// trigger, and for each stick the one deflected further.
pub fn merge(a: ControllerState, b: ControllerState) -> ControllerState {
    let stick = |ax: i16, ay: i16, bx: i16, by: i16| {
        let m = |x: i16, y: i16| i32::from(x).pow(2) + i32::from(y).pow(2);
        if m(bx, by) > m(ax, ay) {
            (bx, by)
        } else {
            (ax, ay)
        }
    };
    let (lx, ly) = stick(
        a.left_thumb_x,
        a.left_thumb_y,
        b.left_thumb_x,
        b.left_thumb_y,
    );
    let (rx, ry) = stick(
        a.right_thumb_x,
        a.right_thumb_y,
        b.right_thumb_x,
        b.right_thumb_y,
    );
    ControllerState {
        buttons: a.buttons | b.buttons,
        left_trigger: a.left_trigger.max(b.left_trigger),
        right_trigger: a.right_trigger.max(b.right_trigger),
        left_thumb_x: lx,
        left_thumb_y: ly,
        right_thumb_x: rx,
        right_thumb_y: ry,
    }
}

/// `--auto-input`: a scripted controller for unattended runs. Every half second it presses or
/// releases A, and the right trigger ramps up and down once a second (the simulated console
/// answers triggers with rumble).
pub fn scripted(elapsed_ms: u128) -> ControllerState {
    let phase = (elapsed_ms % 1000) as u32;
    let ramp = if phase < 500 { phase } else { 1000 - phase };
    ControllerState {
        buttons: if (elapsed_ms / 500).is_multiple_of(2) {
            buttons::A
        } else {
            0
        },
        right_trigger: u8::try_from(ramp * 255 / 500).unwrap_or(u8::MAX),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyboard_map() {
        let held = [
            Scancode::Up,
            Scancode::Z,
            Scancode::W,
            Scancode::D,
            Scancode::E,
        ];
        let st = from_keyboard(|k| held.contains(&k));
        assert_eq!(st.buttons, buttons::DPAD_UP | buttons::A);
        assert_eq!((st.left_thumb_x, st.left_thumb_y), (STICK, STICK));
        assert_eq!((st.right_thumb_x, st.right_thumb_y), (0, 0));
        assert_eq!((st.left_trigger, st.right_trigger), (0, 255));
        // Opposite keys cancel out.
        let st = from_keyboard(|k| k == Scancode::A || k == Scancode::D);
        assert_eq!(st.left_thumb_x, 0);
        assert_eq!(from_keyboard(|_| false), ControllerState::default());
        // Every listed key sets exactly its own, distinct bit.
        let mut all = 0u16;
        for &(key, bit, _) in KEY_BUTTONS {
            assert_eq!(from_keyboard(|k| k == key).buttons, bit);
            assert_eq!(all & bit, 0);
            all |= bit;
        }
    }

    #[test]
    fn pad_map() {
        let st = from_pad(
            |b| b == Button::B || b == Button::Start,
            |a| match a {
                Axis::LeftX => -32768,
                Axis::LeftY => -32768, // SDL: pushed up
                Axis::RightY => 32767, // SDL: pushed down
                Axis::TriggerLeft => 32767,
                Axis::TriggerRight => 16384,
                _ => 0,
            },
        );
        assert_eq!(st.buttons, buttons::B | buttons::START);
        assert_eq!(st.left_thumb_x, -STICK);
        assert_eq!(st.left_thumb_y, STICK);
        assert_eq!(st.right_thumb_y, -STICK);
        assert_eq!(st.left_trigger, 255);
        assert_eq!(st.right_trigger, 127);
        assert_eq!(trigger(-5), 0);
    }

    #[test]
    fn merge_prefers_larger_deflection() {
        let kb = ControllerState {
            buttons: buttons::A,
            left_thumb_x: STICK,
            right_trigger: 10,
            ..Default::default()
        };
        let pad = ControllerState {
            buttons: buttons::Y,
            left_thumb_x: 100,
            right_thumb_y: -2000,
            right_trigger: 200,
            ..Default::default()
        };
        let m = merge(kb, pad);
        assert_eq!(m.buttons, buttons::A | buttons::Y);
        assert_eq!(m.left_thumb_x, STICK);
        assert_eq!(m.right_thumb_y, -2000);
        assert_eq!(m.right_trigger, 200);
    }

    #[test]
    fn scripted_moves() {
        assert_eq!(scripted(0).buttons, buttons::A);
        assert_eq!(scripted(600).buttons, 0);
        assert_eq!(scripted(0).right_trigger, 0);
        assert_eq!(scripted(500).right_trigger, 255);
        assert!(scripted(250).right_trigger > 100);
    }
}
