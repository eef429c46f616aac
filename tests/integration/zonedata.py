"""Expected answers for the generated parts of zones/lab.test.zone."""

import string

ALPHA = string.ascii_letters + string.digits
# Owner name -> number of TXT records in the zone.
TXT_RRSETS = {"big5k": 5, "huge": 56}


def txt_rrset(label):
    """The TXT records of label.lab.test as dnssnoop prints their data:
    record i holds four 255-byte strings, string j the character
    ALPHA[(4*i+j) % 62] repeated 250 times then j and i as digits (so no
    two records are equal: a server would merge them)."""
    return [" ".join('"%s%02d%03d"' % (ALPHA[(4 * i + j) % len(ALPHA)] * 250, j, i)
                     for j in range(4))
            for i in range(TXT_RRSETS[label])]


if __name__ == "__main__":
    # Prints the zone lines (how they were made).
    for label, n in TXT_RRSETS.items():
        for data in txt_rrset(label):
            print("%s\t300\tIN\tTXT\t%s" % (label, data))
