"""Customer e-mails as a merchant edits them: the live preview follows the typing, saving keeps the text,
"Restaurar padrão" brings the default back."""

from playwright.sync_api import expect

from notifications.models import CustomerEmailTemplate


def test_edit_an_email_with_the_live_preview_and_restore_the_default(page, login, owner, merchant):
    login(owner)

    page.get_by_role("button", name="Notificações").click()
    page.get_by_role("link", name="E-mails", exact=True).click()
    page.get_by_role("link", name="Lembrete de renovação").click()
    expect(page.locator("#preview-subject")).to_contain_text("Sua assinatura do plano Clube Mensal renova em")

    page.get_by_label("Assunto").fill("Faltam {{ lembrete.dias }} dias, {{ cliente.primeiro_nome }}!")
    expect(page.locator("#preview-subject")).to_have_text("Faltam 3 dias, Ana!")
    page.get_by_label("Assunto").fill("{% if %}")
    expect(page.locator("#preview-error")).to_contain_text("Erro de sintaxe no modelo")
    page.get_by_label("Assunto").fill("Faltam {{ lembrete.dias }} dias para renovar {{ assinatura.plano }}")
    page.get_by_role("button", name="Salvar").click()

    expect(page.get_by_text("E-mail salvo.")).to_be_visible()
    expect(page.locator("#preview-subject")).to_have_text("Faltam 3 dias para renovar Clube Mensal")
    assert CustomerEmailTemplate.objects.get(merchant=merchant, kind="renewal_reminder").subject.startswith(
        "Faltam"
    )

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restaurar padrão").click()

    expect(page.get_by_text("Texto padrão restaurado.")).to_be_visible()
    expect(page.locator("#preview-subject")).to_contain_text("Sua assinatura do plano Clube Mensal renova em")
    assert not CustomerEmailTemplate.objects.exists()
