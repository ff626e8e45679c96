//! Controller state and the Nano input button model.
//!
//! The console reads buttons as counters: each field of the button model
//! starts at zero and is incremented by one on every change of that button
//! (press or release), so a lost Input Frame cannot leave a button stuck.
//! [`ButtonTracker`] keeps the counters and increments them only on a real
//! change.

/// Button bits of [`ControllerState::buttons`]. Bit `i` is byte `i` of the
/// Nano input button model.
pub mod buttons {
    /// D-pad up.
    pub const DPAD_UP: u16 = 1 << 0;
    /// D-pad down.
    pub const DPAD_DOWN: u16 = 1 << 1;
    /// D-pad left.
    pub const DPAD_LEFT: u16 = 1 << 2;
    /// D-pad right.
    pub const DPAD_RIGHT: u16 = 1 << 3;
    /// Start (menu).
    pub const START: u16 = 1 << 4;
    /// Back (view).
    pub const BACK: u16 = 1 << 5;
    /// Left thumbstick click.
    pub const LEFT_THUMB: u16 = 1 << 6;
    /// Right thumbstick click.
    pub const RIGHT_THUMB: u16 = 1 << 7;
    /// Left shoulder (bumper).
    pub const LEFT_SHOULDER: u16 = 1 << 8;
    /// Right shoulder (bumper).
    pub const RIGHT_SHOULDER: u16 = 1 << 9;
    /// Guide (Xbox) button.
    pub const GUIDE: u16 = 1 << 10;
    /// A.
    pub const A: u16 = 1 << 12;
    /// B.
    pub const B: u16 = 1 << 13;
    /// X.
    pub const X: u16 = 1 << 14;
    /// Y.
    pub const Y: u16 = 1 << 15;
    /// Every defined button.
    pub const ALL: u16 = 0xF7FF;
}

/// The state of one controller as the user sets it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ControllerState {
    /// Buttons held down (see [`buttons`]).
    pub buttons: u16,
    /// Left trigger, 0..=255.
    pub left_trigger: u8,
    /// Right trigger, 0..=255.
    pub right_trigger: u8,
    /// Left stick X.
    pub left_thumb_x: i16,
    /// Left stick Y.
    pub left_thumb_y: i16,
    /// Right stick X.
    pub right_thumb_x: i16,
    /// Right stick Y.
    pub right_thumb_y: i16,
}

/// Button-model counters for one controller.
#[derive(Debug, Clone, Default)]
pub(crate) struct ButtonTracker {
    state: ControllerState,
    counters: [u8; 16],
}

impl ButtonTracker {
    /// The current state.
    pub(crate) fn state(&self) -> &ControllerState {
        &self.state
    }

    /// The 16 button-model counters, in wire order.
    pub(crate) fn counters(&self) -> [u8; 16] {
        self.counters
    }

    /// Applies a new state; increments the counter of every button whose
    /// state changed. Returns true if anything (buttons or analog) changed.
    pub(crate) fn update(&mut self, new: ControllerState) -> bool {
        let changed = (self.state.buttons ^ new.buttons) & buttons::ALL;
        for (i, c) in self.counters.iter_mut().enumerate() {
            if changed & (1 << i) != 0 {
                *c = c.wrapping_add(1);
            }
        }
        let any = new != self.state;
        self.state = new;
        any
    }
}

/// A rumble (force feedback) command for one controller, from an
/// InputFeedback frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rumble {
    /// Which controller (0..=3).
    pub controller: u8,
    /// Left trigger motor.
    pub left_trigger: u8,
    /// Right trigger motor.
    pub right_trigger: u8,
    /// Left handle (low-frequency) motor.
    pub left_handle: u8,
    /// Right handle (high-frequency) motor.
    pub right_handle: u8,
    /// The extension model's second set of motors, when present:
    /// left trigger, right trigger, left handle, right handle.
    pub extension: Option<[u8; 4]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_increment_only_on_change() {
        let mut t = ButtonTracker::default();
        let a = ControllerState {
            buttons: buttons::A,
            ..Default::default()
        };
        assert!(t.update(a));
        assert!(!t.update(a));
        assert_eq!(t.counters()[12], 1);
        assert!(t.update(ControllerState::default()));
        assert_eq!(t.counters()[12], 2);
        // Analog only: a change, but no counter moves.
        let s = ControllerState {
            left_trigger: 200,
            ..Default::default()
        };
        assert!(t.update(s));
        assert_eq!(t.counters().iter().map(|&c| c as u32).sum::<u32>(), 2);
        // Undefined bit 11 never counts.
        t.update(ControllerState {
            buttons: 1 << 11,
            ..s
        });
        assert_eq!(t.counters()[11], 0);
    }
}
