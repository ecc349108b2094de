#include "englishplurals.h"

#include <cstring>

namespace meshscope {

QString EnglishPlurals::translate(const char *, const char *sourceText, const char *, int n) const
{
    // A null string lets Qt fall back to the source text (and other translators).
    if (n < 0 || !sourceText || !std::strstr(sourceText, "(s)"))
        return {};
    QString text = QString::fromUtf8(sourceText);
    text.replace(QStringLiteral("(s)"), n == 1 ? QString() : QStringLiteral("s"));
    return text;
}

}  // namespace meshscope
