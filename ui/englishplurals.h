#pragma once
// meshscope ships no translation catalogue; its English source strings mark plurals
// as "%n rule(s)". This translator, installed on the application, resolves them the
// way an English catalogue would: "1 rule", "3 rules".

#include <QTranslator>

namespace meshscope {

class EnglishPlurals : public QTranslator {
public:
    using QTranslator::QTranslator;
    QString translate(
        const char *context, const char *sourceText, const char *disambiguation = nullptr, int n = -1) const override;
    bool isEmpty() const override { return false; }
};

}  // namespace meshscope
