"""Transcripts for tests of text layout: long Thai without spaces, English."""

THAI_RUN = "ผู้ใหญ่บ้านกำลังประชุมเรื่องน้ำท่วมที่หมู่บ้านของเราในวันพรุ่งนี้ตอนเช้าก่อนเที่ยง" * 2
ENGLISH = ("the quick brown fox jumps over the lazy dog while the committee discusses "
           "the flood at length and nobody takes notes")
