using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Xnano.Native
{
    /// <summary>UTF-8 strings to and from native memory (netstandard2.0 has no LPUTF8Str helpers),
    /// for every xnano assembly.</summary>
    public static class Utf8
    {
        /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/>; null stays null.</summary>
        public static byte[] Encode(string s)
        {
            if (s == null)
            {
                return null;
            }
            if (s.IndexOf('\0') >= 0)
            {
                throw new ArgumentException("string contains a NUL character");
            }
            var n = Encoding.UTF8.GetByteCount(s);
            var bytes = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Decodes a NUL-terminated UTF-8 string; NULL gives "".</summary>
        public static string Decode(IntPtr p)
        {
            if (p == IntPtr.Zero)
            {
                return "";
            }
            var len = 0;
            while (Marshal.ReadByte(p, len) != 0)
            {
                len++;
            }
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Copies <paramref name="len"/> bytes from native memory.</summary>
        public static byte[] Copy(IntPtr data, UIntPtr len)
        {
            var n = checked((int)len.ToUInt64());
            var bytes = new byte[n];
            if (n > 0)
            {
                Marshal.Copy(data, bytes, 0, n);
            }
            return bytes;
        }
    }
}
