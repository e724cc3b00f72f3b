from django.urls import path

from plans import views

app_name = "plans"

urlpatterns = [
    path("", views.PlanListView.as_view(), name="plan_list"),
    path("novo/", views.PlanCreateView.as_view(), name="plan_create"),
    path("<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("<int:pk>/editar/", views.PlanUpdateView.as_view(), name="plan_update"),
    path("<int:pk>/arquivar/", views.PlanArchiveView.as_view(), name="plan_archive"),
    path("<int:pk>/desarquivar/", views.PlanUnarchiveView.as_view(), name="plan_unarchive"),
    path("<int:pk>/excluir/", views.PlanDeleteView.as_view(), name="plan_delete"),
]
